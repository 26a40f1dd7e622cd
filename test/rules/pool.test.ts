import { afterAll, describe, expect, it } from "vitest";
import { RulePool } from "../../src/rules/pool.js";

const STUBBORN = new URL("../support/stubborn-worker.mjs", import.meta.url).href;

describe("rule worker pool", () => {
  const pool = new RulePool({ threads: 2, budgetMs: 200, relTol: 1e-4, batchMax: 8, filename: STUBBORN });
  afterAll(() => pool.close());

  it("stops an item at its budget, recycles the worker, and loses no neighbour", async () => {
    await pool.warm();
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
    // One item costs its budget plus a small constant (GRACE_MS 250 + a watchdog tick), not a batch's worth.
    expect(Date.now() - started).toBeLessThan(1_500);
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

describe("rule worker pool with threads busy on slow items", () => {
  const pool = new RulePool({ threads: 2, budgetMs: 5_000, relTol: 1e-4, batchMax: 64, filename: STUBBORN });
  afterAll(() => pool.close());

  const answered = async (items: string[]) => {
    const order: string[] = [];
    await Promise.all(
      items.map((r) =>
        pool.check(r, r).then((v) => {
          expect(v.outcome).toBe("match");
          order.push(r);
        }),
      ),
    );
    return order;
  };

  it("routes the items batched behind a slow one to another thread: they are answered first", async () => {
    await pool.warm();
    const order = await answered(["slow:1500", "a", "b", "c", "d"]);
    expect(order.slice(0, 4).sort()).toEqual(["a", "b", "c", "d"]);
  });

  it("starts an extra thread when every thread is on a slow item", async () => {
    const order = await answered(["slow:3000", "slow:3000", "a", "b"]);
    expect(order.slice(0, 2).sort()).toEqual(["a", "b"]);
    expect(pool.liveThreads).toBeGreaterThan(2); // an extra thread took them
  });

  it("a quick item sent while every thread hangs waits at most one budget", async () => {
    const hangs = [pool.check("x", "hang"), pool.check("y", "hang"), pool.check("z", "hang")];
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    expect((await pool.check("q", "q")).outcome).toBe("match");
    expect(Date.now() - t0).toBeLessThan(5_000 + 250 + 1_000);
    expect((await Promise.all(hangs)).map((r) => r.outcome)).toEqual([
      "over_budget",
      "over_budget",
      "over_budget",
    ]);
  }, 20_000);
});
