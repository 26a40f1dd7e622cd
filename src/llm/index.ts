import type { Config } from "../config/schema.js";
import { LlmJudge, type Log } from "./judge.js";
import { loadRegistry } from "./registry.js";

export { LruCache } from "./cache.js";
export { type JudgeOptions, type JudgeStats, LlmJudge, type Log } from "./judge.js";
export {
  BUNDLED_REGISTRY,
  DEFAULT_PROFILE,
  loadRegistry,
  type ModelProfile,
  parseRegistry,
  pickProfile,
  renderPrompt,
} from "./registry.js";
export type * from "./types.js";
export { pTrueFrom, readVerdict } from "./verdict.js";

/**
 * The LLM verifier for these settings. Throws (at start, not at the first call)
 * when --llm-models cannot be read or --llm-profile names no registry entry.
 * Call `ready()` before serving to wait for the backend.
 */
export function createJudge(config: Config, log: Log): LlmJudge {
  return new LlmJudge(
    {
      urls: config.llmUrl,
      model: config.llmModel,
      profile: config.llmProfile,
      registry: loadRegistry(config.llmModels || undefined),
      apiKey: config.llmApiKey,
      concurrency: config.llmConcurrency,
      timeoutMs: config.llmTimeoutMs,
      retries: config.llmRetries,
      readyTimeoutMs: config.llmReadyTimeoutMs,
      cacheEntries: config.cacheEntries,
      cacheBytes: config.cacheBytes,
    },
    log,
  );
}
