export interface PixelRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Changed pixels closer than this (in pixels, about one line of text) belong to one region. */
const MERGE_GAP = 16;
/** The first grid: cells of 8 x 8 pixels; coarsened (doubled) while there are too many regions. */
const FIRST_CELL = 8;

/**
 * Collects changed pixels into boxes: the pixels are binned into grid cells, cells within MERGE_GAP of each
 * other are joined, and each group's box is the exact extent of its changed pixels. When more than
 * `maxRegions` groups remain the grid is coarsened (cells doubled) until they fit, so a page changed all
 * over ends as a few large boxes rather than thousands of small ones.
 */
export class ChangedRegions {
  private readonly cell = FIRST_CELL;
  private readonly columns: number;
  private readonly rows: number;
  /** Per cell: min x, min y, max x, max y of its changed pixels (min x = -1 when none); allocated lazily. */
  private extents: Int32Array | undefined;

  constructor(
    private readonly width: number,
    private readonly height: number,
  ) {
    this.columns = Math.ceil(width / this.cell);
    this.rows = Math.ceil(height / this.cell);
  }

  add(x: number, y: number): void {
    if (!this.extents) this.extents = new Int32Array(this.columns * this.rows * 4).fill(-1);
    const index = 4 * (((y / this.cell) | 0) * this.columns + ((x / this.cell) | 0));
    const extents = this.extents;
    if (extents[index] === -1) {
      extents[index] = x;
      extents[index + 1] = y;
      extents[index + 2] = x;
      extents[index + 3] = y;
      return;
    }
    if (x < extents[index]!) extents[index] = x;
    if (x > extents[index + 2]!) extents[index + 2] = x;
    if (y > extents[index + 3]!) extents[index + 3] = y;
  }

  boxes(maxRegions: number): PixelRect[] {
    if (!this.extents) return [];
    let grid = { cell: this.cell, columns: this.columns, rows: this.rows, extents: this.extents };
    // Bounded: every round doubles the cell, and a single cell covering the image gives one box.
    for (;;) {
      const boxes = mergeOverlapping(groupCells(grid, MERGE_GAP));
      if (boxes.length <= maxRegions || (grid.columns === 1 && grid.rows === 1)) {
        return boxes.sort((a, b) => a.y - b.y || a.x - b.x).slice(0, maxRegions);
      }
      grid = coarsen(grid);
    }
  }
}

interface Grid {
  cell: number;
  columns: number;
  rows: number;
  extents: Int32Array;
}

/** Joins occupied cells within `gap` pixels of each other (union-find) and returns each group's box. */
function groupCells(grid: Grid, gap: number): PixelRect[] {
  const { columns, rows, extents } = grid;
  const reach = Math.ceil(gap / grid.cell);
  const parent = new Int32Array(columns * rows).fill(-1);
  const find = (cell: number): number => {
    let root = cell;
    while (parent[root] !== root) root = parent[root]!;
    // Path halving keeps later finds short.
    let node = cell;
    while (parent[node] !== root) {
      const next = parent[node]!;
      parent[node] = root;
      node = next;
    }
    return root;
  };
  const occupied: number[] = [];
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) {
      const cell = row * columns + column;
      if (extents[cell * 4] === -1) continue;
      parent[cell] = cell;
      occupied.push(cell);
      // Only the cells already visited: the rows above within reach, and this row to the left.
      for (let up = Math.max(0, row - reach); up <= row; up++) {
        const last = up === row ? column - 1 : Math.min(columns - 1, column + reach);
        for (let left = Math.max(0, column - reach); left <= last; left++) {
          const other = up * columns + left;
          if (parent[other] === -1) continue;
          const a = find(cell);
          const b = find(other);
          if (a !== b) parent[a] = b;
        }
      }
    }
  }
  const byRoot = new Map<number, [number, number, number, number]>();
  for (const cell of occupied) {
    const root = find(cell);
    const i = cell * 4;
    const box = byRoot.get(root);
    if (!box) {
      byRoot.set(root, [extents[i]!, extents[i + 1]!, extents[i + 2]!, extents[i + 3]!]);
      continue;
    }
    box[0] = Math.min(box[0], extents[i]!);
    box[1] = Math.min(box[1], extents[i + 1]!);
    box[2] = Math.max(box[2], extents[i + 2]!);
    box[3] = Math.max(box[3], extents[i + 3]!);
  }
  return [...byRoot.values()].map(([x0, y0, x1, y1]) => ({
    x: x0,
    y: y0,
    width: x1 - x0 + 1,
    height: y1 - y0 + 1,
  }));
}

/** Boxes of separate groups can still overlap (an L-shaped group's box covers another): merge those. */
function mergeOverlapping(boxes: PixelRect[]): PixelRect[] {
  const merged = [...boxes];
  let joined = true;
  // Bounded: every join removes a box.
  while (joined) {
    joined = false;
    outer: for (let i = 0; i < merged.length; i++) {
      for (let j = i + 1; j < merged.length; j++) {
        if (!overlaps(merged[i]!, merged[j]!)) continue;
        merged[i] = union(merged[i]!, merged[j]!);
        merged.splice(j, 1);
        joined = true;
        break outer;
      }
    }
  }
  return merged;
}

function overlaps(a: PixelRect, b: PixelRect): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

function union(a: PixelRect, b: PixelRect): PixelRect {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return {
    x,
    y,
    width: Math.max(a.x + a.width, b.x + b.width) - x,
    height: Math.max(a.y + a.height, b.y + b.height) - y,
  };
}

function coarsen(grid: Grid): Grid {
  const columns = Math.ceil(grid.columns / 2);
  const rows = Math.ceil(grid.rows / 2);
  const extents = new Int32Array(columns * rows * 4).fill(-1);
  for (let row = 0; row < grid.rows; row++) {
    for (let column = 0; column < grid.columns; column++) {
      const from = 4 * (row * grid.columns + column);
      if (grid.extents[from] === -1) continue;
      const to = 4 * ((row >> 1) * columns + (column >> 1));
      if (extents[to] === -1) {
        extents.set(grid.extents.subarray(from, from + 4), to);
        continue;
      }
      extents[to] = Math.min(extents[to]!, grid.extents[from]!);
      extents[to + 1] = Math.min(extents[to + 1]!, grid.extents[from + 1]!);
      extents[to + 2] = Math.max(extents[to + 2]!, grid.extents[from + 2]!);
      extents[to + 3] = Math.max(extents[to + 3]!, grid.extents[from + 3]!);
    }
  }
  return { cell: grid.cell * 2, columns, rows, extents };
}
