/**
 * Admission of streams: at most `perConnection` open on one client connection and
 * `total` on the server, so no client can take every slot. Over either limit a new
 * stream is refused (RESOURCE_EXHAUSTED), the open ones are untouched.
 */
export class StreamSlots {
  private open = 0;
  private readonly byConnection = new Map<string, number>();

  constructor(
    readonly total: number,
    readonly perConnection: number,
  ) {}

  /** A release function when a slot is free, or the reason there is none. */
  take(connection: string): (() => void) | string {
    const mine = this.byConnection.get(connection) ?? 0;
    if (mine >= this.perConnection) {
      return `this connection already has ${mine} open streams (--max-streams-per-connection ${this.perConnection})`;
    }
    if (this.open >= this.total) {
      return `the server already has ${this.open} open streams (--max-streams ${this.total})`;
    }
    this.open++;
    this.byConnection.set(connection, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open--;
      const left = (this.byConnection.get(connection) ?? 1) - 1;
      if (left > 0) this.byConnection.set(connection, left);
      else this.byConnection.delete(connection);
    };
  }
}
