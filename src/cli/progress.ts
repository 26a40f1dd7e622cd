/** A progress bar on a TTY; on anything else a plain line every 10%. */
export class Progress {
  private n = 0;
  private lastDecile = 0;
  private readonly started = Date.now();

  constructor(
    private readonly total: number,
    private readonly out: NodeJS.WriteStream,
  ) {}

  tick(): void {
    this.n++;
    if (this.out.isTTY) {
      if (this.n % 16 === 0 || this.n === this.total) this.draw();
      return;
    }
    const decile = Math.floor((10 * this.n) / Math.max(1, this.total));
    if (decile > this.lastDecile) {
      this.lastDecile = decile;
      this.out.write(`progress: ${this.n}/${this.total}\n`);
    }
  }

  done(): void {
    if (this.out.isTTY && this.total > 0) this.out.write("\n");
  }

  private draw(): void {
    const width = 30;
    const filled = Math.round((width * this.n) / Math.max(1, this.total));
    const rate = this.n / Math.max(0.001, (Date.now() - this.started) / 1000);
    this.out.write(
      `\r[${"#".repeat(filled)}${" ".repeat(width - filled)}] ${this.n}/${this.total} ${rate.toFixed(0)} items/s`,
    );
  }
}
