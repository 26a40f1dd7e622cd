import { describe, expect, it } from "vitest";
import { verifyAnswer } from "../../src/rules/index.js";
import { devGolds, rightForms, wrongForms } from "./redteam.js";

const opts = { budgetMs: 2000 };

describe("red team over the dev golds", () => {
  // Only golds the rules can read and accept plainly: the others are the LLM's to judge.
  // (A gold with $ inside is prose with math in it: no wrapper can hold it whole.)
  const golds = devGolds().filter(
    (g) =>
      !g.replace(/^\$+|\$+$/g, "").includes("$") &&
      verifyAnswer(g, `\\boxed{${g.replace(/^\$+|\$+$/g, "")}}`, opts).outcome === "match",
  );

  it("has golds to work with (the generator itself is sound)", () => {
    expect(golds.length).toBeGreaterThan(200);
    expect(wrongForms("3").length).toBeGreaterThan(25);
  });

  it("accepts none of the decorated wrong forms", () => {
    const accepted = golds.flatMap((g) =>
      wrongForms(g)
        .filter((p) => verifyAnswer(p.gold, p.response, opts).outcome === "match")
        .map((p) => `${p.family}: gold ${JSON.stringify(p.gold)}, response ${JSON.stringify(p.response)}`),
    );
    expect(accepted).toEqual([]);
  }, 120_000);

  it("still accepts the plain correct forms", () => {
    const rejected = golds.flatMap((g) =>
      rightForms(g)
        .map((p) => ({ p, r: verifyAnswer(p.gold, p.response, opts) }))
        .filter(({ r }) => r.outcome !== "match")
        .map(
          ({ p, r }) =>
            `gold ${JSON.stringify(p.gold)}, response ${JSON.stringify(p.response.slice(-80))}: ${r.outcome} ${r.detail ?? ""}`,
        ),
    );
    expect(rejected).toEqual([]);
  }, 120_000);
});
