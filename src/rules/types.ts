/** What the rule verifier concluded about one (gold, response) pair. */
export type RuleOutcomeName = "match" | "mismatch" | "no_answer" | "unparseable" | "over_budget";

export interface RuleOptions {
  /** Per-item time budget in milliseconds; past it the outcome is "over_budget". */
  budgetMs: number;
  /** Relative tolerance for inexact numbers (the gold's own precision may widen it). */
  relTol?: number;
  /** Inputs longer than this (after taking the tail that holds the answer) are "over_budget". */
  maxInputChars?: number;
  /** A decimal answer coarser than the gold (165.5 for 165.47) needs this many significant digits (default 3). */
  minSigDigits?: number;
  /**
   * The question, when known: an answer that only copies an expression of the
   * question back unevaluated ("\binom{10}{3}" for "Compute $\binom{10}{3}$") is a mismatch.
   */
  question?: string;
}

export interface RuleResult {
  outcome: RuleOutcomeName;
  /** The final answer pulled out of the response, as written ("" when none). */
  extracted: string;
  /** Why, briefly, for logs and `tinyv check` (e.g. "numbers differ: 10 vs 100"). */
  detail?: string;
  /** `extracted` is only the start of an answer too long to verify (and too long to judge). */
  clipped?: boolean;
}
