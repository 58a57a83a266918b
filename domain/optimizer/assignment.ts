/**
 * Exact maximum-weight bipartite matching (each row at most one column, each column at most one row) by
 * successive shortest augmenting paths with Dijkstra and potentials (the Hungarian method on a sparse graph).
 * Every row may stay unmatched (a private zero-weight dummy column), so weights need not be positive.
 * Used for components without binding side constraints (the assignment structure makes them exactly
 * solvable without an LP solver) and, re-solved after weight changes, as the subproblem of the Lagrangian
 * relaxation of the side constraints (domain/optimizer/lagrangian.ts).
 */
export interface SparseAssignment {
  rows: number;
  cols: number;
  /** Edges of row i are edgeCol/edgeWeight[rowStart[i] .. rowStart[i+1]). */
  rowStart: Int32Array;
  edgeCol: Int32Array;
  edgeWeight: Float64Array;
}

export interface Matching {
  /** Per row, the index of its chosen edge (into edgeCol), or -1 when the row stays unmatched. */
  edgeOfRow: Int32Array;
  /**
   * Per edge, its reduced cost at the optimum: potentialRow - potentialCol - weight >= 0, and 0 on chosen
   * edges. An edge with reduced cost r can only enter a matching that is worse by at least r.
   */
  reducedCost: Float64Array;
}

/** Maximum-weight matching with the optimality certificate (reduced costs of all edges). */
export function maxWeightMatching(g: SparseAssignment): Matching {
  const solver = new IncrementalAssignment(g.rows, g.cols, g.rowStart, g.edgeCol);
  solver.weight.set(g.edgeWeight);
  solver.solve();
  const { rows, rowStart, edgeCol, edgeWeight } = g;
  const reducedCost = new Float64Array(edgeCol.length);
  for (let i = 0; i < rows; i++) {
    const u = solver.rowDual(i);
    for (let e = rowStart[i]!; e < rowStart[i + 1]!; e++) reducedCost[e] = Math.max(0, u + solver.colDual(edgeCol[e]!) - edgeWeight[e]!);
  }
  return { edgeOfRow: Int32Array.from(solver.edgeOfRow, (e) => (e < 0 ? -1 : e)), reducedCost };
}

/**
 * The matching solver with state: after the caller changes `weight`, `resolve()` repairs the previous
 * optimum instead of starting over. Rows whose matched edge is no longer the best choice under the current
 * column potentials are unmatched (freeing a column resets its potential to 0, which may unmatch further
 * rows), then only the unmatched rows are augmented. Invariants between calls, in min-cost form
 * (cost = -weight, column `cols + i` is row i's dummy of cost 0): every reduced cost
 * cost + piRow - piCol >= 0, matched edges have reduced cost 0 (up to rounding), free columns have
 * potential 0 and matched ones <= 0. So the duals u = max(0, piRow), v = -piCol >= 0 certify optimality.
 */
export class IncrementalAssignment {
  /** Edge weights (maximized). Change them, then call resolve(). */
  readonly weight: Float64Array;
  /** Per row, its matched edge, -2 when matched to its dummy (stays unmatched), -1 when not yet processed. */
  readonly edgeOfRow: Int32Array;
  /** Rows augmented by the last solve()/resolve() (a measure of the work done). */
  augmented = 0;

  private readonly piRow: Float64Array;
  private readonly piCol: Float64Array;
  private readonly rowOfCol: Int32Array;
  private readonly colOfRow: Int32Array;
  private readonly colStart: Int32Array;
  private readonly colEdgeRow: Int32Array;
  private readonly distCol: Float64Array;
  private readonly distRow: Float64Array;
  private readonly predEdge: Int32Array;
  private readonly predRow: Int32Array;
  private readonly final: Uint8Array;
  private readonly queued: Uint8Array;
  private readonly touchedCols: number[] = [];
  private readonly touchedRows: number[] = [];
  private heapD = new Float64Array(64);
  private heapC = new Int32Array(64);
  private heapN = 0;
  private initialized = false;

  constructor(
    readonly rows: number,
    readonly cols: number,
    readonly rowStart: Int32Array,
    readonly edgeCol: Int32Array,
  ) {
    const m = edgeCol.length;
    const nCols = cols + rows;
    this.weight = new Float64Array(m);
    this.edgeOfRow = new Int32Array(rows).fill(-1);
    this.piRow = new Float64Array(rows);
    this.piCol = new Float64Array(nCols);
    this.rowOfCol = new Int32Array(nCols).fill(-1);
    this.colOfRow = new Int32Array(rows).fill(-1);
    this.distCol = new Float64Array(nCols).fill(Infinity);
    this.distRow = new Float64Array(rows).fill(Infinity);
    this.predEdge = new Int32Array(nCols).fill(-1);
    this.predRow = new Int32Array(nCols).fill(-1);
    this.final = new Uint8Array(nCols);
    this.queued = new Uint8Array(rows);
    // Rows of each real column (CSR), for the repair cascade.
    const colStart = new Int32Array(cols + 1);
    for (let e = 0; e < m; e++) colStart[edgeCol[e]! + 1]!++;
    for (let j = 0; j < cols; j++) colStart[j + 1]! += colStart[j]!;
    const fill = colStart.slice(0, cols);
    const colEdgeRow = new Int32Array(m);
    for (let i = 0; i < rows; i++) for (let e = rowStart[i]!; e < rowStart[i + 1]!; e++) colEdgeRow[fill[edgeCol[e]!]!++] = i;
    this.colStart = colStart;
    this.colEdgeRow = colEdgeRow;
  }

  /** Dual of row i's "at most one" constraint (>= 0). */
  rowDual(i: number): number {
    return Math.max(0, this.piRow[i]!);
  }

  /** Dual of column j's "at most one" constraint (>= 0). */
  colDual(j: number): number {
    return Math.max(0, -this.piCol[j]!);
  }

  /** Sum of the matched edges' weights. */
  value(): number {
    let v = 0;
    for (let i = 0; i < this.rows; i++) if (this.edgeOfRow[i]! >= 0) v += this.weight[this.edgeOfRow[i]!]!;
    return v;
  }

  /** Solves from scratch (first call) or repairs after weight changes (later calls). */
  solve(): void {
    if (this.initialized) {
      this.resolve();
      return;
    }
    this.initialized = true;
    const { rows, rowStart, weight, piRow } = this;
    // Initial potentials keep every reduced cost >= 0 (free columns at 0).
    for (let i = 0; i < rows; i++) {
      let max = 0; // the dummy
      for (let e = rowStart[i]!; e < rowStart[i + 1]!; e++) if (weight[e]! > max) max = weight[e]!;
      piRow[i] = max;
    }
    this.augmented = 0;
    for (let r = 0; r < rows; r++) this.augment(r);
  }

  /** Re-optimizes after `weight` changed, keeping what is still optimal. */
  resolve(): void {
    if (!this.initialized) {
      this.solve();
      return;
    }
    const { rows, rowStart, edgeCol, weight, piRow, piCol, colOfRow, edgeOfRow, queued, cols } = this;
    let scale = 1;
    for (let e = 0; e < weight.length; e++) scale = Math.max(scale, Math.abs(weight[e]!));
    const eps = 1e-11 * scale;
    const stack: number[] = [];
    for (let i = rows - 1; i >= 0; i--) {
      stack.push(i);
      queued[i] = 1;
    }
    const free: number[] = [];
    while (stack.length > 0) {
      const i = stack.pop()!;
      queued[i] = 0;
      // The smallest potential that keeps all of row i's reduced costs >= 0.
      let need = piCol[cols + i]!;
      for (let e = rowStart[i]!; e < rowStart[i + 1]!; e++) {
        const val = piCol[edgeCol[e]!]! + weight[e]!;
        if (val > need) need = val;
      }
      piRow[i] = need;
      const col = colOfRow[i]!;
      if (col < 0) continue;
      const edge = edgeOfRow[i]!;
      const matchedVal = edge === -2 ? piCol[cols + i]! : piCol[col]! + weight[edge]!;
      if (need - matchedVal <= eps) continue; // still tight: stays matched
      // Unmatch row i; its column becomes free, with potential 0 (which may raise other rows' needs).
      colOfRow[i] = -1;
      edgeOfRow[i] = -1;
      this.rowOfCol[col] = -1;
      free.push(i);
      if (piCol[col] !== 0) {
        piCol[col] = 0;
        if (col < cols) {
          for (let k = this.colStart[col]!; k < this.colStart[col + 1]!; k++) {
            const i2 = this.colEdgeRow[k]!;
            if (!queued[i2]) {
              queued[i2] = 1;
              stack.push(i2);
            }
          }
        }
      }
      if (!queued[i]) {
        queued[i] = 1;
        stack.push(i);
      }
    }
    this.augmented = 0;
    free.sort((a, b) => a - b);
    for (const r of free) if (colOfRow[r]! < 0) this.augment(r);
  }

  private push(d: number, c: number): void {
    if (this.heapN === this.heapD.length) {
      const nd = new Float64Array(this.heapN * 2);
      nd.set(this.heapD);
      this.heapD = nd;
      const nc = new Int32Array(this.heapN * 2);
      nc.set(this.heapC);
      this.heapC = nc;
    }
    const heapD = this.heapD;
    const heapC = this.heapC;
    let k = this.heapN++;
    while (k > 0) {
      const p = (k - 1) >> 1;
      if (heapD[p]! <= d) break;
      heapD[k] = heapD[p]!;
      heapC[k] = heapC[p]!;
      k = p;
    }
    heapD[k] = d;
    heapC[k] = c;
  }

  private pop(): number {
    const heapD = this.heapD;
    const heapC = this.heapC;
    const top = heapC[0]!;
    const n = --this.heapN;
    const d = heapD[n]!;
    const c = heapC[n]!;
    let k = 0;
    for (;;) {
      let m = 2 * k + 1;
      if (m >= n) break;
      if (m + 1 < n && heapD[m + 1]! < heapD[m]!) m++;
      if (heapD[m]! >= d) break;
      heapD[k] = heapD[m]!;
      heapC[k] = heapC[m]!;
      k = m;
    }
    heapD[k] = d;
    heapC[k] = c;
    return top;
  }

  private relaxRow(i: number, base: number): void {
    const { rowStart, edgeCol, weight, piRow, piCol, final, distCol, predEdge, predRow, touchedCols, cols } = this;
    const pr = piRow[i]!;
    for (let e = rowStart[i]!; e < rowStart[i + 1]!; e++) {
      const j = edgeCol[e]!;
      if (final[j]) continue;
      const nd = base + (pr - weight[e]! - piCol[j]!);
      if (nd < distCol[j]!) {
        if (distCol[j] === Infinity) touchedCols.push(j);
        distCol[j] = nd;
        predEdge[j] = e;
        predRow[j] = i;
        this.push(nd, j);
      }
    }
    const dummy = cols + i;
    if (!final[dummy]) {
      const nd = base + (pr - piCol[dummy]!);
      if (nd < distCol[dummy]!) {
        if (distCol[dummy] === Infinity) touchedCols.push(dummy);
        distCol[dummy] = nd;
        predEdge[dummy] = -2;
        predRow[dummy] = i;
        this.push(nd, dummy);
      }
    }
  }

  /** One shortest augmenting path from the free row r (Dijkstra on reduced costs), then potentials and matching updated. */
  private augment(r: number): void {
    const { distCol, distRow, final, rowOfCol, colOfRow, edgeOfRow, piCol, piRow, predEdge, predRow, touchedCols, touchedRows } = this;
    this.augmented++;
    this.heapN = 0;
    distRow[r] = 0;
    touchedRows.push(r);
    this.relaxRow(r, 0);
    let sink = -1;
    while (this.heapN > 0) {
      const j = this.pop();
      if (final[j]) continue;
      final[j] = 1;
      const i2 = rowOfCol[j]!;
      if (i2 < 0) {
        sink = j;
        break;
      }
      // The matched edge is tight, so its row is reached at the same distance.
      distRow[i2] = distCol[j]!;
      touchedRows.push(i2);
      this.relaxRow(i2, distCol[j]!);
    }
    // The dummy column of r is always reachable, so a sink exists.
    const dStar = distCol[sink]!;
    for (const j of touchedCols) {
      if (final[j]) piCol[j]! += distCol[j]! - dStar;
      distCol[j] = Infinity;
      final[j] = 0;
    }
    for (const i of touchedRows) {
      piRow[i]! += Math.min(distRow[i]!, dStar) - dStar;
      distRow[i] = Infinity;
    }
    touchedCols.length = 0;
    touchedRows.length = 0;
    // Augment along the predecessors.
    let j = sink;
    while (j >= 0) {
      const i = predRow[j]!;
      const prevCol = colOfRow[i]!;
      rowOfCol[j] = i;
      colOfRow[i] = j;
      edgeOfRow[i] = predEdge[j]!;
      if (i === r) break;
      j = prevCol;
    }
  }
}
