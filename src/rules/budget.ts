/** Cooperative deadline shared by every stage of one verification. */
export class OverBudget extends Error {
  constructor() {
    super("over budget");
  }
}

/** Thrown when input is nested deeper than the parser allows. */
export class TooDeep extends Error {
  constructor() {
    super("nesting too deep");
  }
}

export class Budget {
  private readonly deadline: number;
  private ticks = 0;

  constructor(ms: number) {
    this.deadline = performance.now() + Math.max(0, ms);
  }

  /** Cheap enough for hot loops: reads the clock once every 64 calls. */
  check(): void {
    if ((++this.ticks & 63) === 0 && performance.now() > this.deadline) throw new OverBudget();
  }

  /** Milliseconds left; for steps that cannot check the clock themselves. */
  remainingMs(): number {
    return this.deadline - performance.now();
  }

  /** Reads the clock now; for coarse stage boundaries. */
  checkNow(): void {
    if (performance.now() > this.deadline) throw new OverBudget();
  }
}
