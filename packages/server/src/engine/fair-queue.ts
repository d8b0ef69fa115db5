/**
 * Waiters served round-robin across keys (projects): each key waits in its own FIFO line, and a freed slot
 * goes to the next key in turn, so one project with many waiting captures (slow or spinning pages) cannot
 * starve another project's single request.
 */
export class FairQueue<T> {
  private readonly lines = new Map<string, T[]>();
  /** Keys with waiters, in the order they are served next. */
  private readonly turn: string[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  push(key: string, item: T): void {
    let line = this.lines.get(key);
    if (!line) {
      line = [];
      this.lines.set(key, line);
      this.turn.push(key);
    }
    line.push(item);
    this.count += 1;
  }

  /** The next waiter: the head of the next key's line; that key then goes to the back of the turn. */
  shift(): T | undefined {
    const key = this.turn.shift();
    if (key === undefined) return undefined;
    const line = this.lines.get(key) ?? [];
    const item = line.shift();
    if (line.length > 0) this.turn.push(key);
    else this.lines.delete(key);
    if (item !== undefined) this.count -= 1;
    return item;
  }

  /** Takes a waiter out (it gave up); false when it was not waiting any more. */
  remove(key: string, item: T): boolean {
    const line = this.lines.get(key);
    const index = line ? line.indexOf(item) : -1;
    if (!line || index < 0) return false;
    line.splice(index, 1);
    this.count -= 1;
    if (line.length === 0) {
      this.lines.delete(key);
      const at = this.turn.indexOf(key);
      if (at >= 0) this.turn.splice(at, 1);
    }
    return true;
  }

  /** Every waiter, emptied out (shutdown). */
  drain(): T[] {
    const all = [...this.lines.values()].flat();
    this.lines.clear();
    this.turn.length = 0;
    this.count = 0;
    return all;
  }
}
