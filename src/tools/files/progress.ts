// Progress of one transfer, reported at most every `intervalMs` (and once at the end), so a fast
// transfer does not flood the daemon's event socket.
export class Progress {
  readonly total: number;
  done = 0;
  private last = 0;
  private readonly report: (done: number, total: number) => void;
  private readonly intervalMs: number;

  constructor(total: number, report: (done: number, total: number) => void, intervalMs = 200) {
    this.total = total;
    this.report = report;
    this.intervalMs = intervalMs;
  }

  add(n: number): void {
    this.done += n;
    const now = Date.now();
    if (now - this.last >= this.intervalMs) {
      this.last = now;
      this.report(this.done, this.total);
    }
  }

  finish(): void {
    this.report(this.done, this.total);
  }
}
