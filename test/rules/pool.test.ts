import { afterAll, describe, expect, it } from "vitest";
import { RulePool } from "../../src/rules/pool.js";

describe("rule worker pool", () => {
  const pool = new RulePool({
    threads: 2,
    budgetMs: 200,
    relTol: 1e-4,
    batchMax: 8,
    filename: new URL("../support/stubborn-worker.mjs", import.meta.url).href,
  });
  afterAll(() => pool.close());

  it("marks only the item that overruns its budget, recycles the worker, and loses no neighbour", async () => {
    const responses = ["1", "2", "hang", "4", "5", "6"];
    const started = Date.now();
    const results = await Promise.all(responses.map((r) => pool.check(r === "hang" ? "3" : r, r)));
    expect(results.map((r) => r.outcome)).toEqual([
      "match",
      "match",
      "over_budget",
      "match",
      "match",
      "match",
    ]);
    expect(results[2]?.detail).toMatch(/over the 200 ms budget/);
    // Batch bound (6 x 200 ms + 1 s) plus the solo retry bound (200 ms + 1 s), with slack.
    expect(Date.now() - started).toBeLessThan(8_000);
    // The pool still serves after its worker was killed.
    expect((await pool.check("7", "7")).outcome).toBe("match");
  });

  it("survives a worker that dies and answers every other item", async () => {
    const results = await Promise.all(["a", "crash", "b"].map((r) => pool.check(r, r)));
    expect(results[0]?.outcome).toBe("match");
    expect(results[2]?.outcome).toBe("match");
    expect(results[1]?.outcome).toBe("unparseable");
    expect(results[1]?.detail).toMatch(/rule worker failed/);
  });

  it("hands many items over in micro-batches and answers each once", async () => {
    const n = 2000;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) => pool.check(String(i), String(i % 3 === 0 ? i : -i))),
    );
    expect(results.filter((r) => r.outcome === "match")).toHaveLength(Math.ceil(n / 3));
  });

  it("a worker module that cannot load fails warm() and every item with a clear error, and does not respawn forever", async () => {
    const broken = new RulePool({
      threads: 2,
      budgetMs: 200,
      relTol: 1e-4,
      filename: new URL("../support/no-such-worker.mjs", import.meta.url).href,
    });
    await expect(broken.warm()).rejects.toThrow(/rule worker failed to start: .*no-such-worker/);
    const r = await broken.check("1", "1");
    expect(r.outcome).toBe("unparseable");
    expect(r.detail).toMatch(/failed to start/);
    await broken.close();
  });
});
