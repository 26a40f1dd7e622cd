/**
 * Rule verifier: extract -> normalize -> tokenize/parse -> interpret -> compare.
 * Synchronous and pure; runs inside worker threads.
 */
import type { Node } from "./ast.js";
import { Budget, OverBudget, TooDeep } from "./budget.js";
import { answersEqual, type CompareContext } from "./compare.js";
import { allBoxed, type Candidate, candidates } from "./extract.js";
import { normalizeLatex } from "./normalize.js";
import { ParseError, parseTokens } from "./parse.js";
import { restatesQuestion } from "./restated.js";
import { TokenizeError, tokenize } from "./tokenize.js";
import type { RuleOptions, RuleResult } from "./types.js";
import { InterpretError, interpretBound, type Value } from "./values.js";

export type { RuleOptions, RuleOutcomeName, RuleResult } from "./types.js";

export const DEFAULT_MAX_INPUT_CHARS = 4000;
/** Whole responses beyond this are not scanned at all. */
const MAX_RESPONSE_CHARS = 2_000_000;
const DEFAULT_REL_TOL = 1e-9;
const DEFAULT_MIN_SIG_DIGITS = 3;

type Parsed = { ok: true; value: Value; bound: Set<string> } | { ok: false; why: string };

/** `strict` for answers: prose must be a unit, a label or a connector the rules understand. */
function parseAnswer(text: string, budget: Budget, strict: boolean): Parsed {
  try {
    const node: Node = parseTokens(tokenize(text, budget), budget);
    return { ok: true, ...interpretBound(node, strict) };
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

/** Gold as stored may be wrapped in $...$ or in boxes (several boxes: several values). */
function goldText(gold: string): string {
  const boxes = allBoxed(gold);
  return boxes.length > 0 ? boxes.join(", ") : gold;
}

const squash = (s: string) => s.replace(/\s+/g, "");

/** An answer too long to verify is echoed only in part (verdicts stay small; it is never sent to the LLM). */
export function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…[${s.length - max} more chars]`;
}

interface Gold {
  normalized: string;
  choice?: string;
  parsed: Parsed;
}

export function verifyAnswer(gold: string, response: string, options: RuleOptions): RuleResult {
  const maxChars = options.maxInputChars ?? DEFAULT_MAX_INPUT_CHARS;
  if (response.length > MAX_RESPONSE_CHARS)
    return { outcome: "over_budget", extracted: "", detail: "response too long" };
  if (gold.length > maxChars) return { outcome: "over_budget", extracted: "", detail: "gold too long" };
  const budget = new Budget(options.budgetMs);
  const ctx: CompareContext = {
    budget,
    relTol: options.relTol ?? DEFAULT_REL_TOL,
    preciseRelTol: options.relTol,
    minSigDigits: options.minSigDigits ?? DEFAULT_MIN_SIG_DIGITS,
  };
  let g: Gold | undefined;
  let current = ""; // the candidate being judged, for a verdict cut short
  try {
    let last: Judged | undefined;
    for (const cand of candidates(response)) {
      // Sizes are checked before any work that grows with them.
      const length = cand.answers.reduce((n, w) => n + w.length + 2, -2);
      if (length > maxChars) {
        const extracted = clip(cand.answers.join(", "), maxChars);
        return { outcome: "over_budget", extracted, clipped: true, detail: "input too long" };
      }
      current = cand.answers.join(", ");
      budget.checkNow();
      g ??= prepareGold(gold, budget);
      const r = judge(g, cand, budget, ctx);
      if (r.outcome !== "unparseable" || cand.final) return restated(r, g, options.question);
      last ??= r;
    }
    return last ? restated(last, g as Gold, undefined) : { outcome: "no_answer", extracted: "" };
  } catch (e) {
    if (e instanceof OverBudget)
      return { outcome: "over_budget", extracted: current, detail: "time budget spent" };
    if (e instanceof RangeError) return { outcome: "unparseable", extracted: current, detail: e.message };
    throw e;
  }
}

function prepareGold(gold: string, budget: Budget): Gold {
  const normalized = normalizeLatex(goldText(gold));
  const choice = choiceLetter(stripText(normalized), false);
  return {
    normalized,
    choice,
    parsed: choice ? { ok: false, why: "choice" } : parseAnswer(normalized, budget, false),
  };
}

/** One candidate against the gold: "unparseable" when the candidate is not an answer the rules can read. */
/** A verdict, and the answer as normalized when it matched (for the restated-question check). */
type Judged = RuleResult & { restates?: string };

function judge(g: Gold, cand: Candidate, budget: Budget, ctx: CompareContext): Judged {
  // The same value boxed twice in two spellings is one value; each is normalized once, the raw text kept.
  const distinct = new Map<string, { raw: string; normalized: string }>();
  for (const raw of cand.answers) {
    const normalized = normalizeLatex(raw);
    if (normalized && !distinct.has(squash(normalized)))
      distinct.set(squash(normalized), { raw, normalized });
  }
  const answers = [...distinct.values()];
  const extracted = answers.map((a) => a.raw).join(", ");
  if (answers.length === 0) return { outcome: "no_answer", extracted };
  if (
    answers.length === 1 &&
    squash(g.normalized) === squash((answers[0] as { normalized: string }).normalized)
  )
    return { outcome: "match", extracted, detail: "same text" };
  if (g.choice) {
    const letters = answers.map((a) => choiceLetter(stripText(a.normalized), true));
    if (letters.some((l) => l === undefined))
      return { outcome: "unparseable", extracted, detail: "not a choice" };
    const set = new Set(letters);
    return set.size === 1 && set.has(g.choice)
      ? { outcome: "match", extracted, detail: `choice ${g.choice}` }
      : { outcome: "mismatch", extracted, detail: `choice ${g.choice} vs ${[...set].join(" ")}` };
  }
  const values: Value[] = [];
  const bound = new Set<string>();
  for (const a of answers) {
    budget.checkNow();
    const ap = parseAnswer(a.normalized, budget, true);
    if (!ap.ok) return { outcome: "unparseable", extracted, detail: `answer: ${ap.why}` };
    for (const v of ap.bound) bound.add(v);
    if (!values.some((v) => answersEqual(v, ap.value, ctx))) values.push(ap.value);
  }
  if (!g.parsed.ok) return { outcome: "unparseable", extracted, detail: `gold: ${g.parsed.why}` };
  const answer: Value = values.length === 1 ? (values[0] as Value) : { t: "list", items: values };
  budget.checkNow();
  return answersEqual(g.parsed.value, answer, ctx, g.parsed.bound, bound)
    ? { outcome: "match", extracted, restates: answers[0]?.normalized }
    : { outcome: "mismatch", extracted, detail: `${g.parsed.value.t} vs ${answer.t}` };
}

/** An unevaluated copy of the question's own expression is not an answer (see restated.ts). */
function restated(r: Judged, g: Gold, question: string | undefined): RuleResult {
  const { restates, ...rest } = r;
  if (r.outcome !== "match" || !question || restates === undefined) return rest;
  // The gold itself may stand in the question ("Let f(x) = x + 1. Find f."): then it is no echo.
  if (squash(restates) === squash(g.normalized)) return rest;
  return restatesQuestion(restates, question)
    ? { ...rest, outcome: "mismatch", detail: "restates the question's expression unevaluated" }
    : rest;
}

/** "\text{(B)}" -> "(B)" for choice detection. */
function stripText(s: string): string {
  return s.replace(/\\(?:text|textbf|mathrm|mathbf)\s*\{([^{}]*)\}/g, "$1").trim();
}
