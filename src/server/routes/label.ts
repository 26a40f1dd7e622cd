/**
 * A dataset's label, whatever JSON type it holds, as a ground truth (and, from a dict, a question). Pure.
 * Trainers pass the label column through untouched: OpenRLHF's `--data.label_key`, slime's `--label-key`,
 * NeMo Gym's `expected_answer`.
 */

/** Keys a dict label may carry its answer and its question under, in order of preference. */
const ANSWER_KEYS = ["ground_truth", "answer", "expected_answer", "label", "gold", "solution", "target"];
const QUESTION_KEYS = ["question", "problem", "prompt", "query"];

export type Gold = { gold: string; question?: string } | { fault: string };

/** `where` names the field in messages, e.g. `labels[3]`. */
export function goldFromLabel(label: unknown, where: string): Gold {
  if (label === null || label === undefined) {
    return { fault: `${where} is ${label === null ? "null" : "missing"}: the dataset row has no answer` };
  }
  if (typeof label === "string") {
    return label.trim() ? { gold: label } : { fault: `${where} is an empty string: is the label key set?` };
  }
  if (typeof label === "boolean") return { gold: String(label) };
  if (typeof label === "number") {
    if (!Number.isFinite(label)) return { fault: `${where} is not a finite number` };
    if (Number.isInteger(label) && !Number.isSafeInteger(label)) {
      return {
        fault: `${where} is an integer past 2^53, which JSON numbers cannot hold exactly: send it as a string`,
      };
    }
    return { gold: String(label) };
  }
  if (Array.isArray(label)) {
    return { fault: `${where} is a list; send one answer, or a dict with one of ${ANSWER_KEYS.join(", ")}` };
  }
  if (typeof label === "object") {
    const dict = label as Record<string, unknown>;
    const key = ANSWER_KEYS.find((k) => dict[k] !== undefined);
    if (!key) return { fault: `${where} is a dict without any of ${ANSWER_KEYS.join(", ")}` };
    const inner = dict[key];
    if (typeof inner === "object" && inner !== null)
      return { fault: `${where}.${key} is not a string or number` };
    const gold = goldFromLabel(inner, `${where}.${key}`);
    const qKey = QUESTION_KEYS.find((k) => typeof dict[k] === "string");
    return "gold" in gold && qKey ? { ...gold, question: dict[qKey] as string } : gold;
  }
  return { fault: `${where} has an unsupported type` };
}
