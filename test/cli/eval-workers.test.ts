import { describe, expect, it } from "vitest";
import { evalWorkers } from "../../src/cli/eval.js";

describe("eval's rule workers", () => {
  it("leave a core to the main thread, start one per 500 items at most, and never none", () => {
    expect(evalWorkers(2, 2000, 2)).toBe(1); // this machine: the main thread keeps the other core
    expect(evalWorkers(16, 2000, 16)).toBe(4);
    expect(evalWorkers(16, 100_000, 16)).toBe(15);
    expect(evalWorkers(3, 100_000, 16)).toBe(3); // --workers is a ceiling
    expect(evalWorkers(16, 1, 16)).toBe(1);
    expect(evalWorkers(4, 0, 1)).toBe(1);
  });
});
