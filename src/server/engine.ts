import { defaultMode } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { Mode } from "../gen/tinyv/v1/verifier_pb.js";
import { HybridVerifier, type VerdictObserver } from "../hybrid/verifier.js";
import type { LlmJudge } from "../llm/index.js";
import type { Log } from "../log.js";
import { RulePool } from "../rules/pool.js";

const MODE_BY_NAME = {
  addon: Mode.ADDON,
  llm_only: Mode.LLM_ONLY,
  rules_only: Mode.RULES_ONLY,
  mixed: Mode.MIXED,
};

/** The verifier stack without transport: shared by `serve`, `check` and `eval`. */
export interface Engine {
  hybrid: HybridVerifier;
  judge: LlmJudge | undefined;
  pool: RulePool;
  close(): Promise<void>;
}

/**
 * `waitForJudge` (the default, for `check` and `eval`): resolve once the LLM is
 * ready. `serve` passes false, opens its ports at once and waits for `judge.ready()` itself.
 */
export async function createEngine(
  config: Config,
  log: Log,
  observe?: VerdictObserver,
  waitForJudge = true,
): Promise<Engine> {
  const pool = new RulePool({
    threads: config.workers,
    budgetMs: config.ruleBudgetMs,
    relTol: config.relTol,
  });
  const warming = pool.warm();
  // Loaded only when used: the CLI's rules-only runs start faster without the HTTP client and its SDK.
  const judge =
    config.llmUrl.length > 0 ? (await import("../llm/index.js")).createJudge(config, log) : undefined;
  const mode = defaultMode(config);
  if (!judge && mode !== "rules_only") {
    log(
      "warn",
      `mode ${mode} wants an LLM but none is configured (--llm-url): rule verdicts only, LLM outcome NOT_CONFIGURED`,
    );
  }
  const ready = judge?.ready();
  if (waitForJudge) await ready;
  await warming;
  const hybrid = new HybridVerifier(
    pool,
    judge,
    {
      defaultMode: MODE_BY_NAME[mode],
      llmWeight: config.llmWeight,
      softReward: config.softReward,
      llmFailure: config.llmFailure,
      llmTailChars: config.llmTailChars,
      restatedAnswers: config.restatedAnswers,
      maxItemBytes: config.maxItemBytes,
    },
    observe,
  );
  return {
    hybrid,
    judge,
    pool,
    close: async () => {
      await judge?.close();
      await pool.close();
    },
  };
}
