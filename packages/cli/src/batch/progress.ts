// Progress of a batch: a one-line bar with rate and ETA redrawn in place on a terminal, or one plain
// line per finished URL otherwise (logs, CI, pipes). A dozen lines of our own instead of a dependency.

export interface ProgressCounts {
  done: number;
  total: number;
  ok: number;
  failed: number;
  skipped: number;
}

const BAR_WIDTH = 24;

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

export class Progress {
  readonly #stream: NodeJS.WriteStream;
  readonly #tty: boolean;
  readonly #started = Date.now();
  #captured = 0;
  #note = '';
  #last: ProgressCounts = { done: 0, total: 0, ok: 0, failed: 0, skipped: 0 };

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.#stream = stream;
    this.#tty = Boolean(stream.isTTY) && process.env.TERM !== 'dumb';
  }

  /** The bar's line: `[#####-----] 10/20 50% 1.8/s ETA 6s ok 9 failed 1 skipped 0`. */
  line(counts: ProgressCounts): string {
    const share = counts.total === 0 ? 1 : counts.done / counts.total;
    const filled = Math.round(share * BAR_WIDTH);
    const seconds = (Date.now() - this.#started) / 1000;
    // Rate and ETA count captures only: skipped files cost nothing and would make the ETA lie.
    const rate = seconds > 0 ? this.#captured / seconds : 0;
    const eta = rate > 0 ? (counts.total - counts.done) / rate : Number.POSITIVE_INFINITY;
    return (
      `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${counts.done}/${counts.total} ` +
      `${Math.round(share * 100)}% ${rate.toFixed(1)}/s ETA ${duration(eta)} ` +
      `ok ${counts.ok} failed ${counts.failed} skipped ${counts.skipped}${this.#note ? ` ${this.#note}` : ''}`
    );
  }

  /** Draws the empty bar (terminal only). */
  begin(counts: ProgressCounts): void {
    this.#last = counts;
    if (this.#tty) this.#stream.write(this.line(counts));
  }

  /** One URL finished: redraw the bar, or print its plain line. */
  finished(counts: ProgressCounts, plain: string, captured: boolean): void {
    if (captured) this.#captured++;
    this.#last = counts;
    if (this.#tty) this.#stream.write(`\r\x1b[2K${this.line(counts)}`);
    else this.#stream.write(`${plain}\n`);
  }

  /** A short note (e.g. throttled, waiting 2 s) shown on the bar, or as its own line. */
  note(text: string): void {
    this.#note = text;
    if (this.#tty) this.#stream.write(`\r\x1b[2K${this.line(this.#last)}`);
    else this.#stream.write(`${text}\n`);
  }

  /** Ends the bar's line so what follows starts on a fresh one. */
  end(counts: ProgressCounts): void {
    this.#note = '';
    if (this.#tty) this.#stream.write(`\r\x1b[2K${this.line(counts)}\n`);
  }
}
