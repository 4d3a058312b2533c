/**
 * Progress of a long `hdx hospital submit`: count, rate, ETA and refusals by status. On a terminal one line
 * redrawn in place (at most every 200 ms); otherwise a plain line every 5 % (logs, CI), and a last one.
 * Written to stderr so that stdout stays the per-file results (or JSON).
 */
export interface ProgressSink {
  isTTY?: boolean;
  write(text: string): unknown;
}

export class SubmitProgress {
  private done = 0;
  private readonly refusals = new Map<string, number>();
  private readonly started: number;
  private lastDraw = 0;
  private lastStep = -1;

  constructor(
    private readonly total: number,
    private readonly sink: ProgressSink,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.started = now();
  }

  /** One file answered (`refusal`: its status, when refused or skipped). */
  tick(refusal?: string): void {
    this.done++;
    if (refusal !== undefined) this.refusals.set(refusal, (this.refusals.get(refusal) ?? 0) + 1);
    const now = this.now();
    if (this.sink.isTTY) {
      if (now - this.lastDraw >= 200 || this.done === this.total) {
        this.lastDraw = now;
        this.sink.write(`\r\x1b[2K${this.line(now)}${this.done === this.total ? '\n' : ''}`);
      }
      return;
    }
    const step = Math.floor((this.done / this.total) * 20);
    if (step !== this.lastStep || this.done === this.total) {
      this.lastStep = step;
      this.sink.write(`${this.line(now)}\n`);
    }
  }

  line(now = this.now()): string {
    const seconds = Math.max(0.001, (now - this.started) / 1000);
    const rate = this.done / seconds;
    const left = this.total - this.done;
    const eta = rate > 0 && left > 0 ? `  ETA ${formatSeconds(left / rate)}` : '';
    const refused = [...this.refusals].map(([status, n]) => `${status} ${n}`).join(', ');
    const percent = this.total === 0 ? 100 : (this.done / this.total) * 100;
    return `${this.done}/${this.total} (${percent.toFixed(0)}%)  ${rate.toFixed(1)}/s${eta}${refused ? `  refused: ${refused}` : ''}`;
  }
}

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.ceil(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.ceil(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.ceil((s % 3600) / 60)} min`;
}
