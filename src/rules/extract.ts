/** Finding the final answer in a model response (chain of thought or bare answer). */
import { braced } from "./braces.js";

export type ExtractHow = "boxed" | "marker" | "bare" | "math" | "number";

export interface Extracted {
  answer: string;
  how: ExtractHow;
  /** Every box in the final part of the response (the last one is `answer` when how = "boxed"). */
  boxes: string[];
}

/** A response this short without any marker is taken to be the answer itself. */
const BARE_MAX_CHARS = 200;
const TAIL_CHARS = 4000;
const BARE_MAX_PROSE_WORDS = 8;
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

// Each marker captures the rest of its line; every pattern is linear (test/audit/regex.test.ts).
const MARKERS: { re: RegExp; value?: (rest: string) => string | undefined }[] = [
  { re: /answer\s+is\b[^\S\n]*:?([^\n]*)/gi },
  {
    re: /(?:option|choice)\s+is([^\n]*)/g,
    value: (rest) => /^\s*(?::\s*)?(\(?[A-J]\)?)(?![a-zA-Z])/.exec(rest)?.[1],
  },
  { re: /(?:^|\n)[^\S\n]*\**answer\**[^\S\n]*[:：]([^\n]*)/gi },
  { re: /####([^\n]*)/g },
];

function lastMarker(text: string): string | undefined {
  let best: { at: number; value: string } | undefined;
  // A conclusion sits near the end; "the answer is not obvious" mid-reasoning is not one.
  const tail = text.slice(-MARKER_TAIL_CHARS);
  for (const { re, value } of MARKERS) {
    for (const m of tail.matchAll(re)) {
      const v = value ? value(m[1] as string) : (m[1] as string).trim();
      if (v && (!best || (m.index ?? 0) >= best.at)) best = { at: m.index ?? 0, value: v };
    }
  }
  if (!best) return undefined;
  // "$5$. I hope it is correct.": the math span is the answer, the rest is chatter.
  const span = /^[^$]*\$([^$]+)\$/.exec(best.value);
  return stripSentence(span ? (span[1] as string) : best.value);
}

/** "$x = 3$." -> "x = 3": sentence punctuation and bold marks around an answer. */
function stripSentence(s: string): string {
  return s
    .trim()
    .replace(/\*\*/g, "")
    .replace(/[.。]\s*$/, "")
    .trim();
}

/** Prose words (not LaTeX command names) in a text. */
function proseWords(text: string): number {
  return text.match(/(?<![\\a-zA-Z])[a-zA-Z]{3,}/g)?.length ?? 0;
}

/**
 * A response without markers is the answer itself when it is short, or when it is one line of math
 * with little prose (a long formula or a long list); otherwise it is reasoning to search.
 */
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

/** The last `$$..$$`, `\[..\]`, `\(..\)` or `$..$` span: one left-to-right scan (no regex backtracking). */
function lastMathSpan(text: string): string | undefined {
  let last: string | undefined;
  let i = 0;
  while (i < text.length) {
    const open = DELIMITERS.find(([o]) => text.startsWith(o, i));
    if (!open) {
      i++;
      continue;
    }
    const [o, c] = open;
    const end = text.indexOf(c, i + o.length);
    // "$" spans stay on one paragraph's worth of text: no "$" inside, at least one char.
    if (end < 0) break;
    if (end > i + o.length) last = text.slice(i + o.length, end);
    i = end + c.length;
  }
  return last?.trim();
}

function lastNumber(text: string): string | undefined {
  const all = text.match(/-?\d+(?:\.\d+)?(?:\/\d+)?/g);
  return all?.[all.length - 1];
}

/** The final answer as written, or undefined when the response has none. */
export function extractAnswer(response: string): Extracted | undefined {
  let text = response;
  const close = text.lastIndexOf("</think>");
  if (close >= 0) text = text.slice(close + "</think>".length);
  else if (text.includes("<think>")) return undefined; // still thinking: no final answer yet
  // Only the last few boxes can be the answer; more than that is a list no gold has (and costs time).
  const boxes = allBoxed(text).slice(-MAX_BOXES);
  const boxed = boxes[boxes.length - 1];
  if (boxed !== undefined) return { answer: boxed, how: "boxed", boxes };
  const marked = lastMarker(text);
  if (marked !== undefined) return { answer: marked, how: "marker", boxes };
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  if (looksBare(trimmed)) return { answer: trimmed, how: "bare", boxes };
  // Only the tail can hold a final answer; scanning less also bounds the regex work.
  const tail = text.slice(-TAIL_CHARS);
  const span = lastMathSpan(tail);
  if (span) return { answer: span, how: "math", boxes };
  const num = lastNumber(tail);
  return num === undefined ? undefined : { answer: num, how: "number", boxes };
}
