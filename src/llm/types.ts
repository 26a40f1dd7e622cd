/** What the LLM verifier is asked: the extracted answer, not the chain of thought. */
export interface JudgeInput {
  question: string;
  groundTruth: string;
  answer: string;
}

export type JudgeOutcome = "true" | "false" | "unparseable" | "error" | "timeout";

export interface JudgeResult {
  outcome: JudgeOutcome;
  /** P("True") from the first answer token's log-probabilities, when the backend gave them. */
  pTrue?: number;
  /** Why, for ERROR / TIMEOUT / UNPARSEABLE (e.g. "HTTP 503 from http://127.0.0.1:8000/v1"). */
  detail?: string;
  /** True when the verdict came from the cache (not from an in-flight call shared with others). */
  cached: boolean;
  /** Time spent waiting for this verdict, in milliseconds. */
  ms: number;
  /** Base URL of the backend that answered (absent when none did, or from the cache: the original answerer). */
  backend?: string;
}

export interface BackendStatus {
  url: string;
  healthy: boolean;
  inFlight: number;
}

/** The LLM verifier as the hybrid layer sees it. */
export interface Judge {
  /** Never rejects: failures come back as outcome "error" or "timeout". An aborted signal gives "timeout"/"error" promptly. */
  judge(input: JudgeInput, signal?: AbortSignal): Promise<JudgeResult>;
  /** Resolve when a backend answers (or the ready wait runs out, with a logged warning). */
  ready(): Promise<void>;
  model(): string;
  backends(): BackendStatus[];
  close(): Promise<void>;
}
