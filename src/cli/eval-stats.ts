/** Pure tallies for `tinyv eval`. */
export interface Scored {
  label: boolean;
  correct: boolean;
  /** Time the verifier spent on the item (rules + LLM), in ms. */
  ms: number;
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
  };
}

/** Nearest-rank quantile of sorted values (0 for none). */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}

const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)}%` : "-");

export function formatSummary(name: string, s: Summary): string {
  return [
    `${name}: n=${s.n} accuracy=${pct(s.accuracy * s.n, s.n)}`,
    `  correct accepted (recall): ${s.acceptedCorrect}/${s.labelledCorrect} (${pct(s.acceptedCorrect, s.labelledCorrect)})`,
    `  wrong accepted (false positives): ${s.acceptedWrong}/${s.labelledWrong} (${pct(s.acceptedWrong, s.labelledWrong)})`,
    `  per-item verify time: median ${s.medianMs.toFixed(3)} ms, p99 ${s.p99Ms.toFixed(3)} ms`,
  ].join("\n");
}
