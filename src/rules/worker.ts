import { performance } from "node:perf_hooks";
import { verifyAnswer } from "./index.js";
import type { RuleResult } from "./types.js";

export interface RuleTask {
  items: { gold: string; response: string }[];
  budgetMs: number;
  relTol: number;
}

export type RuleCheck = RuleResult & { ms: number };

/** Runs inside a worker thread: one micro-batch, item by item, each timed on its own. */
export default function run(task: RuleTask): RuleCheck[] {
  return task.items.map(({ gold, response }) => {
    const t0 = performance.now();
    let result: RuleResult;
    try {
      result = verifyAnswer(gold, response, { budgetMs: task.budgetMs, relTol: task.relTol });
    } catch (err) {
      // A verifier bug must cost one item, not the batch.
      result = {
        outcome: "unparseable",
        extracted: "",
        detail: `rule verifier fault: ${(err as Error).message}`,
      };
    }
    return { ...result, ms: performance.now() - t0 };
  });
}
