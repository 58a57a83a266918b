/**
 * Exact maximum-weight bipartite matching (each row at most one column, each column at most one row) by
 * successive shortest augmenting paths with Dijkstra and potentials (the Hungarian method on a sparse graph).
 * Every row may stay unmatched (a private zero-weight dummy column), so weights need not be positive.
 * Used for components without binding side constraints: the assignment structure makes them exactly
 * solvable without an LP solver.
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
  const { rows, cols, rowStart, edgeCol, edgeWeight } = g;
  // Min-cost form: cost = -weight; column `cols + i` is row i's dummy (cost 0).
  const nCols = cols + rows;
  const piRow = new Float64Array(rows);
  const piCol = new Float64Array(nCols);
  const rowOfCol = new Int32Array(nCols).fill(-1);
  const colOfRow = new Int32Array(rows).fill(-1);
  const edgeOfRow = new Int32Array(rows).fill(-1);
  // Initial potentials keep every reduced cost c + piRow - piCol >= 0.
  for (let i = 0; i < rows; i++) {
    let min = 0; // the dummy
    for (let e = rowStart[i]!; e < rowStart[i + 1]!; e++) min = Math.min(min, -edgeWeight[e]!);
    piRow[i] = -min;
  }
  const distCol = new Float64Array(nCols).fill(Infinity);
  const distRow = new Float64Array(rows).fill(Infinity);
  const predEdge = new Int32Array(nCols).fill(-1); // edge by which a column was reached (-2: the dummy)
  const predRow = new Int32Array(nCols).fill(-1);
  const final = new Uint8Array(nCols);
  const touchedCols: number[] = [];
  const touchedRows: number[] = [];
  // Binary heap of (dist, col).
  let heapD = new Float64Array(64);
  let heapC = new Int32Array(64);
  let heapN = 0;
  const push = (d: number, c: number): void => {
    if (heapN === heapD.length) {
      const nd = new Float64Array(heapN * 2);
      nd.set(heapD);
      heapD = nd;
      const nc = new Int32Array(heapN * 2);
      nc.set(heapC);
      heapC = nc;
    }
    let k = heapN++;
    while (k > 0) {
      const p = (k - 1) >> 1;
      if (heapD[p]! <= d) break;
      heapD[k] = heapD[p]!;
      heapC[k] = heapC[p]!;
      k = p;
    }
    heapD[k] = d;
    heapC[k] = c;
  };
  const pop = (): number => {
    const top = heapC[0]!;
    const d = heapD[--heapN]!;
    const c = heapC[heapN]!;
    let k = 0;
    for (;;) {
      let m = 2 * k + 1;
      if (m >= heapN) break;
      if (m + 1 < heapN && heapD[m + 1]! < heapD[m]!) m++;
      if (heapD[m]! >= d) break;
      heapD[k] = heapD[m]!;
      heapC[k] = heapC[m]!;
      k = m;
    }
    heapD[k] = d;
    heapC[k] = c;
    return top;
  };

  const relaxRow = (i: number, base: number): void => {
    for (let e = rowStart[i]!; e < rowStart[i + 1]!; e++) {
      const j = edgeCol[e]!;
      if (final[j]) continue;
      const nd = base + (-edgeWeight[e]! + piRow[i]! - piCol[j]!);
      if (nd < distCol[j]!) {
        if (distCol[j] === Infinity) touchedCols.push(j);
        distCol[j] = nd;
        predEdge[j] = e;
        predRow[j] = i;
        push(nd, j);
      }
    }
    const dummy = cols + i;
    if (!final[dummy]) {
      const nd = base + (0 + piRow[i]! - piCol[dummy]!);
      if (nd < distCol[dummy]!) {
        if (distCol[dummy] === Infinity) touchedCols.push(dummy);
        distCol[dummy] = nd;
        predEdge[dummy] = -2;
        predRow[dummy] = i;
        push(nd, dummy);
      }
    }
  };

  for (let r = 0; r < rows; r++) {
    heapN = 0;
    distRow[r] = 0;
    touchedRows.push(r);
    relaxRow(r, 0);
    let sink = -1;
    while (heapN > 0) {
      const j = pop();
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
      relaxRow(i2, distCol[j]!);
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
  for (let i = 0; i < rows; i++) if (edgeOfRow[i]! < 0) edgeOfRow[i] = -1;
  const reducedCost = new Float64Array(edgeCol.length);
  for (let i = 0; i < rows; i++) {
    for (let e = rowStart[i]!; e < rowStart[i + 1]!; e++) reducedCost[e] = Math.max(0, -edgeWeight[e]! + piRow[i]! - piCol[edgeCol[e]!]!);
  }
  return { edgeOfRow, reducedCost };
}
