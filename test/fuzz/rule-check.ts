/**
 * The rule verifier's fuzzing properties, for one case: it never throws, an answer that is empty,
 * garbled or a near miss never matches, and it takes at most its budget plus the pool's grace
 * (past that the pool's watchdog would kill the worker). Shared by test/fuzz/ and bench/fuzz/.
 */
import { verifyAnswer } from "../../src/rules/index.js";
import { GRACE_MS } from "../../src/rules/pool.js";
import type { RuleResult } from "../../src/rules/types.js";
import type { RuleCase } from "./latex.js";

/** The server's defaults (--rule-budget-ms, --rel-tol). */
export const BUDGET_MS = 2000;
export const REL_TOL = 1e-4;

export type Broken = "threw" | "slow" | "false-match";

export interface Checked {
  result?: RuleResult;
  /** Wall time of the first run, in ms. */
  ms: number;
  /** What the case broke, if anything, and how. */
  broken?: { what: Broken; detail: string };
}

function timed(c: RuleCase, budgetMs: number): { result?: RuleResult; error?: unknown; ms: number } {
  const t0 = performance.now();
  try {
    const result = verifyAnswer(c.gold, c.response, { budgetMs, relTol: REL_TOL, question: c.question });
    return { result, ms: performance.now() - t0 };
  } catch (error) {
    return { error, ms: performance.now() - t0 };
  }
}

/** Fastest of `n` more runs: a machine shared with other work can stall any one run. */
export function remeasure(c: RuleCase, n = 2, budgetMs = BUDGET_MS): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) best = Math.min(best, timed(c, budgetMs).ms);
  return best;
}

export function checkRuleCase(c: RuleCase, budgetMs = BUDGET_MS): Checked {
  const { result, error, ms } = timed(c, budgetMs);
  if (error !== undefined) {
    const e = error as Error;
    return { ms, broken: { what: "threw", detail: `${e?.name}: ${e?.message}`.slice(0, 300) } };
  }
  const bound = budgetMs + GRACE_MS;
  if (ms > bound) {
    const again = remeasure(c, 2, budgetMs);
    if (again > bound) {
      return {
        result,
        ms,
        broken: {
          what: "slow",
          detail: `${ms.toFixed(0)} ms, then ${again.toFixed(0)} ms; bound ${bound} ms`,
        },
      };
    }
  }
  if (c.expect === "not-match" && result?.outcome === "match") {
    return { result, ms, broken: { what: "false-match", detail: `${c.kind}: ${result.detail ?? ""}` } };
  }
  return { result, ms };
}

/** A case shortened for a report line (giant inputs are described, not printed). */
export function describeCase(c: RuleCase, max = 160): string {
  const show = (s: string) =>
    s.length <= max ? JSON.stringify(s) : `${JSON.stringify(s.slice(0, max))}... (${s.length} chars)`;
  return `${c.kind} gold=${show(c.gold)} response=${show(c.response)}`;
}
