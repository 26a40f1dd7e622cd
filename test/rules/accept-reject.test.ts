import { describe, expect, it } from "vitest";
import { verifyAnswer } from "../../src/rules/index.js";
import { MUST_ACCEPT, MUST_REJECT } from "./cases.js";

const opts = { budgetMs: 2000 };

describe("verifyAnswer accepts", () => {
  it.each(MUST_ACCEPT)("gold %s, response %s", (gold, response) => {
    const r = verifyAnswer(gold, response, opts);
    expect(r.outcome, r.detail).toBe("match");
  });
});

describe("verifyAnswer rejects", () => {
  it.each(MUST_REJECT)("gold %s, response %s", (gold, response) => {
    const r = verifyAnswer(gold, response, opts);
    expect(r.outcome, r.detail).not.toBe("match");
  });
});
