/**
 * Rule verifier: extract -> normalize -> tokenize/parse -> interpret -> compare.
 * Synchronous and pure; runs inside worker threads.
 */
import type { Node } from "./ast.js";
import { Budget, OverBudget, TooDeep } from "./budget.js";
import { type CompareContext, answersEqual } from "./compare.js";
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

/** A multiple-choice letter: "C", "(C)", "C." or "(C) 42" (answers only). */
function choiceLetter(s: string, allowTrailing: boolean): string | undefined {
  const m = allowTrailing ? /^\(?([A-J])\)?(?:[.:)]?(?:\s.*)?)?$/.exec(s) : /^\(?([A-J])\)?$/.exec(s);
  return m?.[1];
}

/** Gold as stored may be wrapped in $...$ or a box. */
function goldText(gold: string): string {
  return lastBoxed(gold) ?? gold;
}

const squash = (s: string) => s.replace(/\s+/g, "");

export function verifyAnswer(gold: string, response: string, options: RuleOptions): RuleResult {
  const maxChars = options.maxInputChars ?? DEFAULT_MAX_INPUT_CHARS;
  if (response.length > MAX_RESPONSE_CHARS) return { outcome: "over_budget", extracted: "", detail: "response too long" };
  const budget = new Budget(options.budgetMs);
  const found = extractAnswer(response);
  if (!found || !found.answer.trim()) return { outcome: "no_answer", extracted: found?.answer ?? "" };
  const extracted = found.answer;
  if (extracted.length > maxChars || gold.length > maxChars)
    return { outcome: "over_budget", extracted, detail: "input too long" };
  try {
    return judge(goldText(gold), extracted, budget, {
      budget,
      relTol: options.relTol ?? DEFAULT_REL_TOL,
      minSigDigits: DEFAULT_MIN_SIG_DIGITS,
    });
  } catch (e) {
    if (e instanceof OverBudget) return { outcome: "over_budget", extracted, detail: "time budget spent" };
    if (e instanceof RangeError) return { outcome: "unparseable", extracted, detail: e.message };
    throw e;
  }
}

function judge(goldRaw: string, extracted: string, budget: Budget, ctx: CompareContext): RuleResult {
  const g = normalizeLatex(goldRaw);
  const a = normalizeLatex(extracted);
  if (!a) return { outcome: "no_answer", extracted };
  if (squash(g) === squash(a)) return { outcome: "match", extracted, detail: "same text" };
  const gChoice = choiceLetter(stripText(g), false);
  if (gChoice) {
    const aChoice = choiceLetter(stripText(a), true);
    return aChoice === gChoice
      ? { outcome: "match", extracted, detail: `choice ${gChoice}` }
      : { outcome: "mismatch", extracted, detail: `choice ${gChoice} vs ${aChoice ?? a}` };
  }
  budget.checkNow();
  const gp = parseAnswer(g, budget);
  const ap = parseAnswer(a, budget);
  if (!gp.ok || !ap.ok) {
    const why = !gp.ok ? `gold: ${gp.why}` : `answer: ${(ap as { why: string }).why}`;
    return { outcome: "unparseable", extracted, detail: why };
  }
  budget.checkNow();
  return answersEqual(gp.value, ap.value, ctx)
    ? { outcome: "match", extracted }
    : { outcome: "mismatch", extracted, detail: `${gp.value.t} vs ${ap.value.t}` };
}

/** "\text{(B)}" -> "(B)" for choice detection. */
function stripText(s: string): string {
  return s.replace(/\\(?:text|textbf|mathrm|mathbf)\s*\{([^{}]*)\}/g, "$1").trim();
}
