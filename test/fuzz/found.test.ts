/**
 * Every input the fuzzers found breaking a bound, kept as a regression test: each file under
 * test/fuzz/corpus/rules/ is a rule-verifier case (gold, response, what it broke and when), run
 * through the same properties as the fuzzer (never throws, no false match, within budget + grace).
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { RuleCase } from "./latex.js";
import { BUDGET_MS, checkRuleCase } from "./rule-check.js";

const dir = new URL("./corpus/rules/", import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith(".json"));

describe("rule-verifier inputs the fuzzer found", () => {
  it("has a corpus", () => expect(files.length).toBeGreaterThan(0));
  for (const file of files) {
    const c = JSON.parse(readFileSync(new URL(file, dir), "utf8")) as RuleCase & { broke: string };
    it(`${file}: once ${c.broke}`, () => {
      const r = checkRuleCase(c, BUDGET_MS);
      expect(r.broken).toBeUndefined();
    }, 30_000);
  }
});
