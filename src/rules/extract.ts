/**
 * Finding the final answer in a model response: a ranked list of candidates, of
 * which the verifier takes the first that parses (never the first that matches
 * the gold: matching any of several is a hedge). Explicit conclusions (a box, an
 * "answer is" marker) are final: when one does not parse, nothing weaker is tried,
 * so "the answer is not 3" can never fall back to its last number.
 */
import { braced } from "./braces.js";
import { hasProse, proseChangesMeaning } from "./prose.js";
import { trimEnd } from "./text.js";

export type ExtractHow = "boxed" | "marker" | "bold" | "bare" | "math" | "number";

export interface Candidate {
  /** The answers written: several boxes are several values. */
  answers: string[];
  how: ExtractHow;
  /** When it does not parse the item is unparseable: no weaker candidate is tried. */
  final: boolean;
}

/** A response this short without any marker may be the answer itself (if it parses as one). */
const BARE_MAX_CHARS = 200;
const BARE_MAX_PROSE_WORDS = 8;
const TAIL_CHARS = 4000;
const MARKER_TAIL_CHARS = 1500;
const MAX_BOXES = 16;

/** Contents of every \boxed{...} / \fbox{...} with balanced braces, in order ("" for an empty box). */
export function allBoxed(text: string): string[] {
  const re = /\\(?:boxed|fbox)\s*(?=\{)/g;
  const out: string[] = [];
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const group = braced(text, m.index + m[0].length);
    if (!group) break;
    out.push(group.body.trim());
    re.lastIndex = group.end;
  }
  return out;
}

export function lastBoxed(text: string): string | undefined {
  const boxes = allBoxed(text);
  return boxes[boxes.length - 1];
}

/** Chat-template tokens: one starts a new turn (or ends this one); nothing after it is the answer. */
const TURN_TOKENS =
  /<\|(?:im_start|im_end|endoftext|end_of_text|eot_id|eom_id|start_header_id|end_header_id|end|user|assistant|system)\|>|<\/s>|<(?:start|end)_of_turn>/;
/** A role header some servers leave at the start of the reply. */
const LEADING_HEADER =
  /^\s*(?:<\|im_start\|>assistant|<\|start_header_id\|>assistant<\|end_header_id\|>|<start_of_turn>model|<\|assistant\|>)\s*/;

/**
 * The part of a response that can hold its final answer: after the last
 * `</think>`, before any new chat turn, without calculator annotations
 * (`<<6*4=24>>`). undefined while still thinking.
 */
export function finalPart(response: string): string | undefined {
  let text = response;
  const close = text.lastIndexOf("</think>");
  if (close >= 0) text = text.slice(close + "</think>".length);
  else if (text.includes("<think>")) return undefined;
  text = text.replace(LEADING_HEADER, "");
  const turn = TURN_TOKENS.exec(text);
  if (turn) text = text.slice(0, turn.index);
  return text.replace(/<<[^<>\n]{0,200}>>/g, "");
}

/** Strong conclusions, each capturing the rest of its line; every pattern is linear (test/audit). */
const STRONG: RegExp[] = [
  /answer\s+is\b[^\S\n]*:?([^\n]*)/gi,
  /(?:^|\n)[^\S\n]*[*_]{0,2}(?:final\s+)?answer[*_]{0,2}[^\S\n]*[:：]([^\n]*)/gi,
  /(?:^|\n)[^\S\n]*A[^\S\n]*:([^\n]*)/g,
  /####([^\n]*)/g,
  // zh, ja, ko
  /(?:最终答案|答案)[^\S\n]*(?:是|为|為|[:：])([^\n]*)/g,
  /答え[^\S\n]*(?:は|[:：])([^\n]*)/g,
  /(?:정답|답)[^\S\n]*(?:은|는|[:：])([^\n]*)/g,
  // fr, es, pt, it, de, ru, ar
  /r[ée]ponse(?:\s+finale)?[^\S\n]*(?:est\b|[:：])([^\n]*)/gi,
  /respuesta(?:\s+final)?[^\S\n]*(?:es\b|[:：])([^\n]*)/gi,
  /resposta(?:\s+final)?[^\S\n]*(?:é|[:：])([^\n]*)/gi,
  /risposta(?:\s+finale)?[^\S\n]*(?:è|[:：])([^\n]*)/gi,
  /(?:antwort|l(?:ö|oe)sung)[^\S\n]*(?:ist\b|lautet\b|[:：])([^\n]*)/gi,
  /ответ[^\S\n]*(?:[:：—]|равен|будет)([^\n]*)/gi,
  /(?:الإجابة|الاجابة|الجواب)(?:[^\S\n]+(?:النهائية|هي|هو))*[^\S\n]*[:：]?([^\n]*)/g,
];

/** Multiple choice: "the correct option is (C)". */
const CHOICE = /(?:option|choice)\s+is([^\n]*)/gi;

/** "So", "therefore" at the start of a sentence, in languages that mark conclusions so. */
const WEAK =
  /(?:^|[\n.。!?！？])[^\S\n]{0,3}(?:所以|因此|故|综上所述|综上|よって|したがって|ゆえに|따라서|그러므로|donc|ainsi|par\s+cons[ée]quent|por\s+lo\s+tanto|por\s+tanto|as[ií]\s+que|portanto|logo|quindi|dunque|pertanto|somit|daher|folglich|Also(?=[,\s]+(?:ist|sind|betr(?:ä|ae)gt|ergibt|erhalten|gilt|folgt|hat|haben)\b)|следовательно|итак|таким\s+образом|إذن|اذن|لذلك|لذا|وبالتالي|بالتالي)([^\n.。!?！？]*)/giu;

/** The ranked candidates of a response (none: no answer at all). */
export function candidates(response: string): Candidate[] {
  const text = finalPart(response);
  if (text === undefined || !text.trim()) return [];
  // Only the last few boxes can be the answer; more than that is a list no gold has (and costs time).
  const boxes = allBoxed(text).slice(-MAX_BOXES);
  if (boxes.length > 0) return [{ answers: boxes, how: "boxed", final: true }];

  const out: Candidate[] = [];
  const tail = text.slice(-MARKER_TAIL_CHARS);
  const strong = lastMatch(tail, STRONG);
  const choice = lastMatch(tail, [CHOICE]);
  if (choice && (!strong || choice.at >= strong.at)) {
    const letter = /^\s*(?::\s*)?(\(?[A-J]\)?)(?![a-zA-Z])/.exec(choice.value)?.[1];
    if (letter) return [{ answers: [letter], how: "marker", final: true }];
  }
  if (strong) return fromConclusion(strong.value, true);

  const bold = lastBold(tail);
  if (bold) out.push({ answers: [bold], how: "bold", final: false });
  const trimmed = text.trim();
  if (looksBare(trimmed)) out.push({ answers: [trimmed], how: "bare", final: false });
  const weak = lastMatch(tail, [WEAK]);
  if (weak) out.push(...fromConclusion(weak.value, false));
  const closing = text.slice(-TAIL_CHARS);
  const span = lastMathSpan(closing);
  if (span && !proseChangesMeaning(span.sentence))
    out.push({ answers: [span.body], how: "math", final: false });
  const num = lastNumberOfClosingSentence(closing);
  if (num) out.push({ answers: [num], how: "number", final: true });
  return out;
}

/**
 * What a conclusion says, as candidates: the value up to the end of its
 * sentence ("5. I hope it is correct." is 5), its one math span or bold span if
 * that is all it holds, then (when no word in it changes meaning) its last math
 * span or number ("la réponse est 5 pommes", "答案是5个").
 */
function fromConclusion(rest: string, final: boolean): Candidate[] {
  const value = firstSentence(rest);
  if (!value) return [];
  const alone = onlySpan(value);
  // One math span is the answer as written: when it does not parse, no number inside it is tried
  // ("$\\frac 1 12$" is (1/1)2 in LaTeX, never 12).
  if (alone !== undefined) return [{ answers: [alone], how: "marker", final }];
  const out: Candidate[] = [
    { answers: [value.replace(/\$/g, " ").replace(/\*\*/g, "").trim()], how: "marker", final: false },
  ];
  // Prose around the answer ("la réponse est 5 pommes"): its math span, else its own last number.
  const prose = value.replace(/\$[^$]*\$/g, " ");
  if (hasProse(prose) && !proseChangesMeaning(prose)) {
    const span = lastMathSpan(value);
    if (span) out.push({ answers: [span.body], how: "marker", final: false });
    const num = lastNumber(prose);
    if (num && standsAlone(prose, num)) out.push({ answers: [num], how: "marker", final: false });
  }
  const last = out[out.length - 1] as Candidate;
  last.final = final;
  return out;
}

/** The value up to the end of its sentence: a full stop followed by a space or the end (not a decimal point). */
function firstSentence(rest: string): string {
  let s = rest.trim();
  const stop =
    /[.。！!？?](?:\s|$)|[,，;；]\s*(?:because|since|as|which|so|and\s+so|where|hence|therefore|thus)\b/i.exec(
      s,
    );
  if (stop) s = s.slice(0, stop.index);
  return s.replace(/^[:：\s]+/, "").trim();
}

/** The body of a value that is one math span (or one bold span) and nothing else but punctuation. */
function onlySpan(value: string): string | undefined {
  let v = trimEnd(value.trim(), ".,;:!").trim();
  const bold = v.startsWith("**") && v.endsWith("**") && v.length > 4;
  if (bold) v = v.slice(2, -2).trim();
  for (const [o, c] of DELIMITERS) {
    if (v.startsWith(o) && v.endsWith(c) && v.length > o.length + c.length) {
      const body = v.slice(o.length, -c.length);
      // One span: no delimiter inside ("$3$ or $4$" is two).
      if (!body.includes(c) && !(o === "$" && body.includes("$"))) return body.trim();
      return undefined;
    }
  }
  return bold && !v.includes("**") ? v : undefined;
}

function lastMatch(text: string, patterns: RegExp[]): { at: number; value: string } | undefined {
  let best: { at: number; value: string } | undefined;
  for (const re of patterns) {
    for (const m of text.matchAll(re)) {
      const value = (m[1] as string).trim();
      if (value && (!best || (m.index ?? 0) >= best.at)) best = { at: m.index ?? 0, value };
    }
  }
  return best;
}

/** The last **bold** span of the tail that holds a digit or math (a stressed final number). */
function lastBold(tail: string): string | undefined {
  let last: string | undefined;
  for (const m of tail.matchAll(/\*\*([^*\n]{1,200})\*\*/g)) {
    const body = (m[1] as string).replace(/\$/g, " ").trim();
    if (/\d|\\/.test(body)) last = trimEnd(body, ".。,:：").trim();
  }
  return last;
}

/** Prose words (not LaTeX command names) in a text. */
function proseWords(text: string): number {
  return text.match(/(?<![\\a-zA-Z])[a-zA-Z]{3,}/g)?.length ?? 0;
}

/** Short, or one line of math with little prose (a long formula or a long list). */
function looksBare(text: string): boolean {
  if (text.length <= BARE_MAX_CHARS && !text.includes("\n\n")) return true;
  return !text.includes("\n") && proseWords(text) <= BARE_MAX_PROSE_WORDS;
}

/** Math delimiters, longest first so "$$" is not read as two "$". */
const DELIMITERS: [string, string][] = [
  ["$$", "$$"],
  ["\\[", "\\]"],
  ["\\(", "\\)"],
  ["$", "$"],
];

/**
 * The last `$$..$$`, `\[..\]`, `\(..\)` or `$..$` span, and the sentence it sits
 * in: one left-to-right scan (no regex backtracking).
 */
function lastMathSpan(text: string): { body: string; sentence: string } | undefined {
  let last: { start: number; end: number; body: string } | undefined;
  let i = 0;
  while (i < text.length) {
    const open = DELIMITERS.find(([o]) => text.startsWith(o, i));
    if (!open) {
      i++;
      continue;
    }
    const [o, c] = open;
    const end = text.indexOf(c, i + o.length);
    if (end < 0) break;
    const body = text.slice(i + o.length, end).trim();
    if (body) last = { start: i, end: end + c.length, body };
    i = end + c.length;
  }
  if (!last) return undefined;
  return { body: last.body, sentence: sentenceAround(text, last.start, last.end) };
}

/** The sentence around [start, end): from the previous sentence end to the next. */
function sentenceAround(text: string, start: number, end: number): string {
  const before = text.slice(0, start);
  const from = Math.max(before.lastIndexOf(". "), before.lastIndexOf("\n"), before.lastIndexOf("。")) + 1;
  const after = /[.。!?！？](?:\s|$)|\n/.exec(text.slice(end));
  return text.slice(from, after ? end + after.index : text.length);
}

const NUMBER = /-?\d+(?:,\d{3})*(?:\.\d+)?(?:\/\d+)?/g;

/** Whether the last occurrence of `num` in `s` is a value of its own, not an operand or argument. */
function standsAlone(s: string, num: string): boolean {
  const at = s.lastIndexOf(num);
  const before = s.slice(0, at).trimEnd().slice(-1);
  const after = s
    .slice(at + num.length)
    .trimStart()
    .slice(0, 1);
  return !/[\^_*/+\-×÷·([{\\<>!]/.test(before) && !/[\^_*/+\-×÷·)\]}=<>!(\d]/.test(after);
}

function lastNumber(text: string): string | undefined {
  const all = text.match(NUMBER);
  return all?.[all.length - 1];
}

/** Closing chatter that follows an answer and holds no math. */
const CHATTER =
  /^\s*(?:i\s+hope|hope\s+(?:this|it)|let\s+me\s+know|feel\s+free|thank|is\s+there\s+anything)/i;

/**
 * The last number of the last sentence that has one, unless a word in that
 * sentence changes what the number means ("it is not 3", "at least 3").
 */
function lastNumberOfClosingSentence(text: string): string | undefined {
  const sentences = text
    .split(/(?<=[.。!?！？])\s+|\n+/)
    .map((s) => s.trim())
    .filter((s) => s && !CHATTER.test(s));
  for (let i = sentences.length - 1; i >= 0; i--) {
    // Numbers of the prose only: a math span is math, tried (or refused) as such.
    const prose = (sentences[i] as string).replace(/\$[^$]*\$/g, " ");
    const num = lastNumber(prose);
    if (num === undefined) continue;
    // A sentence, not a malformed bare answer ("3 5"), with no word that changes what the number means,
    // and a number that stands on its own: not inside "2^10", "floor(3.7)" or "5 = 2 + 3".
    if (!hasProse(prose) || proseChangesMeaning(prose)) return undefined;
    return standsAlone(prose, num) ? num : undefined;
  }
  return undefined;
}
