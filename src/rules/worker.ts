import { performance } from "node:perf_hooks";
import { verifyAnswer } from "./index.js";
import type { RuleResult } from "./types.js";

export interface RuleItem {
  gold: string;
  response: string;
  question?: string;
}

export interface RuleTask {
  items: RuleItem[];
  budgetMs: number;
  relTol: number;
}

export type RuleCheck = RuleResult & { ms: number };

/** Runs inside a worker thread, once per item of a task (src/rules/thread.ts drives the loop). */
export default function check({ gold, response, question }: RuleItem, task: RuleTask): RuleCheck {
  const t0 = performance.now();
  let result: RuleResult;
  try {
    result = verifyAnswer(gold, response, { budgetMs: task.budgetMs, relTol: task.relTol, question });
  } catch (err) {
    // A verifier bug must cost one item, not the batch.
    result = {
      outcome: "unparseable",
      extracted: "",
      detail: `rule verifier fault: ${(err as Error).message}`,
    };
  }
  return { ...result, ms: performance.now() - t0 };
}
