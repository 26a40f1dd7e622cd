/** Pure tallies for `tinyv eval`. */
export interface Scored {
  label: boolean;
  correct: boolean;
  /** Time the verifier spent on the item (rules + LLM), in ms. */
  ms: number;
  /** Outcome names as in `--out` rows (MATCH, NOT_ASKED, ...). */
  ruleOutcome: string;
  llmOutcome: string;
}

export interface Summary {
  n: number;
  accuracy: number;
  /** Correct answers accepted / correct answers. */
  acceptedCorrect: number;
  labelledCorrect: number;
  /** Wrong answers accepted / wrong answers: false positives. */
  acceptedWrong: number;
  labelledWrong: number;
  medianMs: number;
  p99Ms: number;
  /** Items per rule outcome and per LLM outcome, only the outcomes that occur. */
  ruleOutcomes: Record<string, number>;
  llmOutcomes: Record<string, number>;
}

export function summarize(items: Scored[]): Summary {
  const pos = items.filter((i) => i.label);
  const neg = items.filter((i) => !i.label);
  const right = items.filter((i) => i.correct === i.label).length;
  const ms = items.map((i) => i.ms).sort((a, b) => a - b);
  return {
    n: items.length,
    accuracy: items.length ? right / items.length : 0,
    acceptedCorrect: pos.filter((i) => i.correct).length,
    labelledCorrect: pos.length,
    acceptedWrong: neg.filter((i) => i.correct).length,
    labelledWrong: neg.length,
    medianMs: quantile(ms, 0.5),
    p99Ms: quantile(ms, 0.99),
    ruleOutcomes: tally(items.map((i) => i.ruleOutcome)),
    llmOutcomes: tally(items.map((i) => i.llmOutcome)),
  };
}

function tally(names: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of names) counts[n] = (counts[n] ?? 0) + 1;
  return counts;
}

/** Nearest-rank quantile of sorted values (0 for none). */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}

export const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)}%` : "-");

export function formatSummary(name: string, s: Summary): string {
  return [
    `${name}: n=${s.n} accuracy=${pct(s.accuracy * s.n, s.n)}`,
    `  correct accepted (recall): ${s.acceptedCorrect}/${s.labelledCorrect} (${pct(s.acceptedCorrect, s.labelledCorrect)})`,
    `  wrong accepted (false positives): ${s.acceptedWrong}/${s.labelledWrong} (${pct(s.acceptedWrong, s.labelledWrong)})`,
    `  per-item verify time: median ${s.medianMs.toFixed(3)} ms, p99 ${s.p99Ms.toFixed(3)} ms`,
  ].join("\n");
}
