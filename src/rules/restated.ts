/**
 * An answer that copies an expression of the question back unevaluated
 * ("\binom{10}{3}" for "Compute $\binom{10}{3}$", gold 120) equals the gold but
 * shows no work: rewarding it teaches a policy to echo the question. So a match
 * is turned into a mismatch when the answer is an expression (not a plain
 * number) that appears, as written, in the question.
 */
import { normalizeLatex } from "./normalize.js";

const MAX_QUESTION_CHARS = 20_000;
const squash = (s: string) => s.replace(/\s+/g, "");

export function restatesQuestion(answerNormalized: string, question: string): boolean {
  const a = squash(answerNormalized);
  // A plain number, or one letter, is an answer even when the question happens to contain it.
  if (a.length < 3 || /^-?[\d.,]+$/.test(a) || !/[-+*/^!\\]/.test(a)) return false;
  return squash(normalizeLatex(question.slice(0, MAX_QUESTION_CHARS))).includes(a);
}
