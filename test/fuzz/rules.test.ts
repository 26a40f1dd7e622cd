/**
 * A short run of the rule-verifier fuzzer on every CI run (the million-input run is
 * bench/fuzz/rules.mjs): each kind of generated input, with a fresh random seed each time (fast-check
 * prints the seed and the shrunk input when a property fails), under a time cap per kind. The
 * properties (test/fuzz/rule-check.ts): never throws; an empty, garbled or near-miss answer never
 * matches; one item takes at most the budget plus the pool's grace.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ruleCases } from "./latex.js";
import { checkRuleCase, describeCase } from "./rule-check.js";

/** Runs per kind and the wall-clock cap for each (the whole file stays under about a minute). */
const PLAN: [keyof typeof ruleCases, number, number][] = [
  ["nearMiss", 3000, 6_000],
  ["self", 1000, 4_000],
  ["empty", 1000, 2_000],
  ["garbled", 1000, 2_000],
  ["noise", 3000, 5_000],
  ["mutated", 3000, 5_000],
  ["expr", 1500, 6_000],
  ["nearLimit", 200, 6_000],
  ["list", 8, 9_000],
  ["giant", 60, 5_000],
  ["deep", 150, 5_000],
];

describe("fuzz: the rule verifier", () => {
  for (const [kind, numRuns, ms] of PLAN) {
    it(`${kind}: never throws, never a false match, never past budget + grace`, () => {
      let ran = 0;
      fc.assert(
        fc.property(ruleCases[kind], (c) => {
          ran++;
          const r = checkRuleCase(c);
          if (r.broken) expect.fail(`${r.broken.what}: ${r.broken.detail}; ${describeCase(c)}`);
        }),
        { numRuns, interruptAfterTimeLimit: ms, markInterruptAsFailure: false },
      );
      expect(ran).toBeGreaterThan(0);
    }, 60_000);
  }
});
