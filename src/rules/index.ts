/**
 * Rule verifier: extract -> normalize -> tokenize/parse -> interpret -> compare.
 * Synchronous and pure; runs inside worker threads.
 */
import type { Node } from "./ast.js";
import { Budget, OverBudget, TooDeep } from "./budget.js";
import { answersEqual, type CompareContext } from "./compare.js";
import { extractAnswer, lastBoxed } from "./extract.js";
import { normalizeLatex } from "./normalize.js";
import { ParseError, parseTokens } from "./parse.js";
import { TokenizeError, tokenize } from "./tokenize.js";
import type { RuleOptions, RuleResult } from "./types.js";
import { InterpretError, interpret, type Value } from "./values.js";

export type { RuleOptions, RuleOutcomeName, RuleResult } from "./types.js";

export const DEFAULT_MAX_INPUT_CHARS = 4000;
/** Whole responses beyond this are not scanned at all. */
const MAX_RESPONSE_CHARS = 2_000_000;
const DEFAULT_REL_TOL = 1e-9;
const DEFAULT_MIN_SIG_DIGITS = 3;

type Parsed = { ok: true; value: Value } | { ok: false; why: string };

function parseAnswer(text: string, budget: Budget): Parsed {
  try {
    const node: Node = parseTokens(tokenize(text, budget), budget);
    return { ok: true, value: interpret(node) };
  } catch (e) {
    if (e instanceof TooDeep) return { ok: false, why: "nesting too deep" };
    if (e instanceof ParseError || e instanceof TokenizeError || e instanceof InterpretError)
      return { ok: false, why: e.message };
    throw e;
  }
}

/** A multiple-choice letter: "C", "(C)", "C." or, in answers, "(C) 42" (but not "C or D"). */
function choiceLetter(s: string, allowTrailing: boolean): string | undefined {
  const m = allowTrailing ? /^\(?([A-J])\)?(?:[.:)]?(?:\s(.*))?)?$/.exec(s) : /^\(?([A-J])\)?$/.exec(s);
  if (!m) return undefined;
  // Naming a second option, or joining options, is a hedge.
  if (m[2] && /(?:^|[^a-zA-Z\\])(?:[A-J]|or|and)(?![a-zA-Z])/.test(m[2])) return undefined;
  return m[1];
}

/** Gold as stored may be wrapped in $...$ or a box. */
function goldText(gold: string): string {
  return lastBoxed(gold) ?? gold;
}

const squash = (s: string) => s.replace(/\s+/g, "");

/** An answer too long to verify is echoed only in part (verdicts stay small; it is never sent to the LLM). */
export function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…[${s.length - max} more chars]`;
}

export function verifyAnswer(gold: string, response: string, options: RuleOptions): RuleResult {
  const maxChars = options.maxInputChars ?? DEFAULT_MAX_INPUT_CHARS;
  if (response.length > MAX_RESPONSE_CHARS)
    return { outcome: "over_budget", extracted: "", detail: "response too long" };
  const budget = new Budget(options.budgetMs);
  const found = extractAnswer(response);
  if (!found?.answer.trim()) return { outcome: "no_answer", extracted: found?.answer ?? "" };
  // Several different boxes are several values: right only when the gold lists them all.
  const written = found.how === "boxed" ? found.boxes : [found.answer];
  // Sizes are checked before any work that grows with them.
  const rawLength = written.reduce((n, w) => n + w.length + 2, -2);
  if (rawLength > maxChars || gold.length > maxChars) {
    const extracted = clip(written.join(", "), maxChars);
    return { outcome: "over_budget", extracted, clipped: true, detail: "input too long" };
  }
  // Each answer is normalized once; the raw text is kept for `extracted`.
  const distinct = new Map<string, { raw: string; normalized: string }>();
  for (const raw of written) {
    const normalized = normalizeLatex(raw);
    if (!distinct.has(squash(normalized))) distinct.set(squash(normalized), { raw, normalized });
  }
  const answers = [...distinct.values()];
  const extracted = answers.map((a) => a.raw).join(", ");
  try {
    budget.checkNow();
    const normalized = answers.map((a) => a.normalized);
    return judge(goldText(gold), normalized, extracted, budget, {
      budget,
      relTol: options.relTol ?? DEFAULT_REL_TOL,
      preciseRelTol: options.relTol,
      minSigDigits: options.minSigDigits ?? DEFAULT_MIN_SIG_DIGITS,
    });
  } catch (e) {
    if (e instanceof OverBudget) return { outcome: "over_budget", extracted, detail: "time budget spent" };
    if (e instanceof RangeError) return { outcome: "unparseable", extracted, detail: e.message };
    throw e;
  }
}

function judge(
  goldRaw: string,
  normalizedAnswers: string[],
  extracted: string,
  budget: Budget,
  ctx: CompareContext,
): RuleResult {
  const g = normalizeLatex(goldRaw);
  const as = normalizedAnswers.filter((a) => a.length > 0);
  if (as.length === 0) return { outcome: "no_answer", extracted };
  if (as.length === 1 && squash(g) === squash(as[0] as string))
    return { outcome: "match", extracted, detail: "same text" };
  const gChoice = choiceLetter(stripText(g), false);
  if (gChoice) {
    const letters = new Set(as.map((a) => choiceLetter(stripText(a), true)));
    return letters.size === 1 && letters.has(gChoice)
      ? { outcome: "match", extracted, detail: `choice ${gChoice}` }
      : { outcome: "mismatch", extracted, detail: `choice ${gChoice} vs ${[...letters].join(" ")}` };
  }
  budget.checkNow();
  const gp = parseAnswer(g, budget);
  if (!gp.ok) return { outcome: "unparseable", extracted, detail: `gold: ${gp.why}` };
  const values: Value[] = [];
  for (const a of as) {
    const ap = parseAnswer(a, budget);
    if (!ap.ok) return { outcome: "unparseable", extracted, detail: `answer: ${ap.why}` };
    // The same value boxed twice in two spellings is still one value.
    if (!values.some((v) => answersEqual(v, ap.value, ctx))) values.push(ap.value);
  }
  const answer: Value = values.length === 1 ? (values[0] as Value) : { t: "list", items: values };
  budget.checkNow();
  return answersEqual(gp.value, answer, ctx)
    ? { outcome: "match", extracted }
    : { outcome: "mismatch", extracted, detail: `${gp.value.t} vs ${answer.t}` };
}

/** "\text{(B)}" -> "(B)" for choice detection. */
function stripText(s: string): string {
  return s.replace(/\\(?:text|textbf|mathrm|mathbf)\s*\{([^{}]*)\}/g, "$1").trim();
}
