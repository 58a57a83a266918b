/** The simulator's plot: refill rate and idle provider hours per week, one line per policy (a plain SVG, no dependency). */
import type { PolicyMetrics } from './metrics';

const COLOURS = ['#d62728', '#7f7f7f', '#1f77b4', '#2ca02c', '#9467bd'];
const W = 760;
const PANEL_H = 220;
const M = { left: 60, right: 170, top: 40, bottom: 40 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function panel(
  policies: readonly PolicyMetrics[],
  value: (w: PolicyMetrics['weekly'][number]) => number | null,
  yMax: number,
  title: string,
  yLabel: (v: number) => string,
  top: number,
): string {
  const weeks = Math.max(1, ...policies.map((p) => p.weekly.length));
  const plotW = W - M.left - M.right;
  const plotH = PANEL_H - M.top - M.bottom;
  const x = (week: number) => M.left + (weeks === 1 ? plotW / 2 : ((week - 1) / (weeks - 1)) * plotW);
  const y = (v: number) => top + M.top + plotH - (v / yMax) * plotH;
  const parts: string[] = [`<text x="${M.left}" y="${top + 24}" font-size="14" font-weight="bold">${esc(title)}</text>`];
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    parts.push(`<line x1="${M.left}" x2="${M.left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${M.left - 6}" y="${y(v) + 4}" font-size="11" text-anchor="end">${esc(yLabel(v))}</text>`);
  }
  for (let week = 1; week <= weeks; week++)
    parts.push(`<text x="${x(week)}" y="${top + M.top + plotH + 16}" font-size="11" text-anchor="middle">week ${week}</text>`);
  policies.forEach((p, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const points = p.weekly.map((w) => [w.week, value(w)] as const).filter((pt): pt is readonly [number, number] => pt[1] !== null);
    if (points.length) {
      parts.push(
        `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points.map(([wk, v]) => `${x(wk).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`,
      );
      for (const [wk, v] of points) parts.push(`<circle cx="${x(wk).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${colour}"/>`);
    }
    const ly = top + M.top + 10 + i * 18;
    parts.push(`<line x1="${W - M.right + 15}" x2="${W - M.right + 35}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="2"/>`);
    parts.push(`<text x="${W - M.right + 40}" y="${ly + 4}" font-size="11">${esc(p.label)}</text>`);
  });
  return parts.join('\n');
}

/** An SVG with two panels (refill rate before the slot starts; idle provider hours), one line per policy. */
export function renderPlot(policies: readonly PolicyMetrics[], title: string): string {
  const idleMax = Math.max(1, ...policies.flatMap((p) => p.weekly.map((w) => w.idleHours ?? 0)));
  const niceIdle = Math.ceil(idleMax / 50) * 50;
  const body = [
    panel(
      policies,
      (w) => w.refillRate,
      1,
      'Freed slots refilled before they start',
      (v) => `${Math.round(v * 100)} %`,
      20,
    ),
    panel(
      policies,
      (w) => w.idleHours,
      niceIdle,
      'Idle provider hours',
      (v) => String(Math.round(v)),
      20 + PANEL_H,
    ),
  ].join('\n');
  const height = 2 * PANEL_H + 30;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${M.left}" y="16" font-size="12" fill="#555">${esc(title)}</text>
${body}
</svg>
`;
}
