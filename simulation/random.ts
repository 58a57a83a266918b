/**
 * Seeded randomness for the clinic simulator, keyed rather than sequential: every draw is a pure
 * function of (seed, key), so a patient's k-th offer gets the same number under every policy
 * (common random numbers) no matter in which order the policies' events happen.
 */

/** 32-bit FNV-1a of a string. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** One mulberry32 step from a 32-bit state: a uniform number in [0, 1). */
function mulberry32(state: number): number {
  let t = (state + 0x6d2b79f5) | 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** Keyed uniform draws for one seed. */
export class KeyedRandom {
  constructor(readonly seed: number) {}

  /** A uniform number in [0, 1) for `key` (the same key always gives the same number). */
  uniform(...key: (string | number)[]): number {
    const h = fnv1a(`${this.seed}|${key.join('|')}`);
    // Two rounds: FNV alone leaves neighbouring keys correlated in the low bits.
    return mulberry32(Math.floor(mulberry32(h) * 4294967296) ^ h);
  }

  /** True with probability `p`. */
  chance(p: number, ...key: (string | number)[]): boolean {
    return this.uniform(...key) < p;
  }

  /** An integer in [min, max]. */
  integer(min: number, max: number, ...key: (string | number)[]): number {
    return min + Math.floor(this.uniform(...key) * (max - min + 1));
  }

  /** A Poisson count with mean `mean` (Knuth; the means here are small). */
  poisson(mean: number, ...key: (string | number)[]): number {
    if (mean <= 0) return 0;
    if (mean > 60) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal(...key, 'n')));
    const limit = Math.exp(-mean);
    let k = 0;
    let p = 1;
    for (;;) {
      p *= this.uniform(...key, k);
      if (p <= limit) return k;
      k++;
    }
  }

  /** A standard normal draw (Box-Muller). */
  normal(...key: (string | number)[]): number {
    const u1 = Math.max(this.uniform(...key, 'u1'), 1e-12);
    const u2 = this.uniform(...key, 'u2');
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** A log-normal draw given its median and 90th percentile. */
  logNormal(median: number, p90: number, ...key: (string | number)[]): number {
    const sigma = p90 > median ? Math.log(p90 / median) / 1.2815515655446004 : 0;
    return median * Math.exp(sigma * this.normal(...key));
  }

  /** Picks an index by weights. */
  weighted(weights: readonly number[], ...key: (string | number)[]): number {
    const total = weights.reduce((s, w) => s + w, 0);
    let u = this.uniform(...key) * total;
    for (let i = 0; i < weights.length; i++) {
      u -= weights[i]!;
      if (u < 0) return i;
    }
    return weights.length - 1;
  }
}
