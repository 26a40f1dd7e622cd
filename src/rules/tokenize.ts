/** LaTeX-math tokenizer over normalized text. */
import { braced } from "./braces.js";
import type { Budget } from "./budget.js";

export type Token =
  | { t: "num"; s: string }
  | { t: "id"; s: string }
  | { t: "cmd"; s: string }
  | { t: "op"; s: string }
  | { t: "open"; s: string }
  | { t: "close"; s: string }
  | { t: "word"; s: string }
  | { t: "env"; s: string; begin: boolean };

/** Functions written as plain letters ("sin x") or commands ("\sin x"). */
export const FUNCTIONS = new Set([
  "sin",
  "cos",
  "tan",
  "cot",
  "sec",
  "csc",
  "arcsin",
  "arccos",
  "arctan",
  "arccot",
  "sinh",
  "cosh",
  "tanh",
  "ln",
  "log",
  "lg",
  "exp",
  "sqrt",
  "max",
  "min",
  "gcd",
  "lcm",
  "det",
]);

const GREEK = new Set(
  "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi omicron rho varrho sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Sigma Phi Psi Omega ell".split(
    " ",
  ),
);

/** Commands that mean an operator or a bracket, mapped to one spelling. */
const COMMAND_OPS: Record<string, Token> = {
  le: { t: "op", s: "<=" },
  leq: { t: "op", s: "<=" },
  leqslant: { t: "op", s: "<=" },
  ge: { t: "op", s: ">=" },
  geq: { t: "op", s: ">=" },
  geqslant: { t: "op", s: ">=" },
  lt: { t: "op", s: "<" },
  gt: { t: "op", s: ">" },
  ne: { t: "op", s: "!=" },
  neq: { t: "op", s: "!=" },
  approx: { t: "op", s: "~=" },
  simeq: { t: "op", s: "~=" },
  cdot: { t: "op", s: "*" },
  times: { t: "op", s: "*" },
  ast: { t: "op", s: "*" },
  div: { t: "op", s: "/" },
  colon: { t: "op", s: ":" },
  mid: { t: "op", s: "|" },
  vert: { t: "op", s: "|" },
  lvert: { t: "op", s: "|" },
  rvert: { t: "op", s: "|" },
  cup: { t: "op", s: "cup" },
  cap: { t: "op", s: "cap" },
  setminus: { t: "op", s: "minus" },
  backslash: { t: "op", s: "minus" },
  in: { t: "op", s: "in" },
  pm: { t: "op", s: "pm" },
  mp: { t: "op", s: "mp" },
  to: { t: "op", s: "->" },
  rightarrow: { t: "op", s: "->" },
  mapsto: { t: "op", s: "->" },
  lbrace: { t: "open", s: "{set" },
  rbrace: { t: "close", s: "}set" },
  lfloor: { t: "open", s: "floor" },
  rfloor: { t: "close", s: "floor" },
  lceil: { t: "open", s: "ceil" },
  rceil: { t: "close", s: "ceil" },
  langle: { t: "open", s: "(" },
  rangle: { t: "close", s: ")" },
  infty: { t: "id", s: "inf" },
  infin: { t: "id", s: "inf" },
  TVdeg: { t: "op", s: "deg" },
  TVpct: { t: "op", s: "pct" },
  circ: { t: "op", s: "deg" },
  land: { t: "op", s: "and" },
  wedge: { t: "op", s: "and" },
  lor: { t: "op", s: "or" },
  vee: { t: "op", s: "or" },
  cdots: { t: "id", s: "..." },
  ldots: { t: "id", s: "..." },
  dots: { t: "id", s: "..." },
  forall: { t: "word", s: "forall" },
  exists: { t: "word", s: "exists" },
  implies: { t: "word", s: "implies" },
  Rightarrow: { t: "word", s: "implies" },
};

/** \text-like commands whose argument is prose, units or a label. */
const TEXT_COMMANDS = new Set([
  "text",
  "textrm",
  "textnormal",
  "mbox",
  "mathrm",
  "textit",
  "textbf",
  "textsf",
]);
/** Style commands whose argument is still math. */
const STYLE_COMMANDS = new Set([
  "mathbf",
  "boldsymbol",
  "bm",
  "mathit",
  "mathsf",
  "mathbb",
  "mathcal",
  "operatorname",
]);

export const MAX_TOKENS = 4000;

export class TokenizeError extends Error {}

export function tokenize(src: string, budget?: Budget): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = src.length;
  const push = (tok: Token) => {
    if (out.length >= MAX_TOKENS) throw new TokenizeError("too many tokens");
    out.push(tok);
  };
  while (i < n) {
    budget?.check();
    const c = src[i] as string;
    if (c === " " || c === "\n") {
      i++;
      continue;
    }
    if (/\d/.test(c) || (c === "." && /\d/.test(src[i + 1] ?? ""))) {
      const m = /^\d*\.?\d+(?:[eE][+-]?\d+(?![a-zA-Z]))?|^\d+/.exec(src.slice(i, i + 400));
      const s = m?.[0] ?? c;
      push({ t: "num", s });
      i += s.length;
      continue;
    }
    if (/[\p{L}\p{M}]/u.test(c)) {
      let j = i;
      while (j < n && /[\p{L}\p{M}]/u.test(src[j] as string)) j++;
      const run = src.slice(i, j);
      // Letters of other scripts are always prose ("5 pommes", "5个苹果").
      if (/^[a-zA-Z]+$/.test(run)) pushLetters(run, push, besideWord(src, i, j));
      else push({ t: "word", s: run });
      i = j;
      continue;
    }
    if (c === "\\") {
      const m = /^\\([a-zA-Z]+|\\|\{|\}|\||.)/.exec(src.slice(i, i + 40));
      const name = m?.[1] ?? "";
      i += 1 + name.length;
      if (name === "\\") push({ t: "op", s: "\\\\" });
      else if (name === "{") push({ t: "open", s: "{set" });
      else if (name === "}") push({ t: "close", s: "}set" });
      else if (name === "|") push({ t: "op", s: "|" });
      else if (name === "begin" || name === "end") {
        const env = /^\s*\{([a-zA-Z*]+)\}/.exec(src.slice(i, i + 40));
        if (!env) throw new TokenizeError(`bad \\${name}`);
        i += env[0].length;
        push({ t: "env", s: (env[1] as string).replace("*", ""), begin: name === "begin" });
      } else if (TEXT_COMMANDS.has(name) || STYLE_COMMANDS.has(name)) {
        const arg = braced(src, i);
        if (arg === undefined) throw new TokenizeError(`\\${name} without argument`);
        i = arg.end;
        // \text{e} and \mathrm{e} are Euler's number, \mathrm{i} the imaginary unit.
        if (TEXT_COMMANDS.has(name) && /^\s*[ei]\s*$/.test(arg.body)) push({ t: "id", s: arg.body.trim() });
        else if (TEXT_COMMANDS.has(name) && /^[\p{L}\p{M}\s.,'-]*$/u.test(arg.body)) pushText(arg.body, push);
        else for (const tok of tokenize(arg.body.replace(/\s+/g, " "), budget)) push(tok);
      } else if (COMMAND_OPS[name]) push(COMMAND_OPS[name] as Token);
      else if (GREEK.has(name) || name === "pi") push({ t: "id", s: name });
      else if (name) push({ t: "cmd", s: name });
      continue;
    }
    if (c === "<" || c === ">" || c === "!" || c === "=") {
      if (src[i + 1] === "=" && c !== "=") {
        push({ t: "op", s: `${c}=` });
        i += 2;
        continue;
      }
      push({ t: "op", s: c });
      i++;
      continue;
    }
    if (c === "(" || c === "[") push({ t: "open", s: c });
    else if (c === ")" || c === "]") push({ t: "close", s: c });
    else if (c === "{") push({ t: "open", s: "{" });
    else if (c === "}") push({ t: "close", s: "}" });
    else if ("+-*/^_,;:|'&".includes(c)) push({ t: "op", s: c });
    else throw new TokenizeError(`unexpected character ${JSON.stringify(c)}`);
    i++;
  }
  return out;
}

/** Two-letter English words; read as words only next to other prose ("no solution", not "2an"). */
const SHORT_WORDS = new Set([
  "no",
  "is",
  "of",
  "to",
  "at",
  "on",
  "be",
  "by",
  "it",
  "an",
  "as",
  "if",
  "so",
  "we",
  "in",
  "up",
]);

function besideWord(src: string, start: number, end: number): boolean {
  const before = /(?<![\\a-zA-Z])([a-zA-Z]{3,})[\s,]*$/.exec(src.slice(Math.max(0, start - 40), start));
  const after = /^[\s,]*([a-zA-Z]{3,})/.exec(src.slice(end, end + 40));
  const prose = (m: RegExpExecArray | null) => !!m && !FUNCTIONS.has(m[1] as string);
  return prose(before) || prose(after);
}

/** A run of plain letters: a function name, "and"/"or", a prose word, or single-letter symbols. */
function pushLetters(run: string, push: (t: Token) => void, besideProse: boolean): void {
  const lower = run.toLowerCase();
  if (FUNCTIONS.has(run)) push({ t: "cmd", s: run });
  else if (lower === "and" || lower === "or") push({ t: "op", s: lower });
  else if (run === "pi") push({ t: "id", s: "pi" });
  else if (run.length >= 3 || lower === "vs" || (besideProse && SHORT_WORDS.has(lower)))
    push({ t: "word", s: run });
  else for (const ch of run) push({ t: "id", s: ch });
}

function pushText(body: string, push: (t: Token) => void): void {
  for (const w of body.split(/[\s,]+/)) {
    if (!w) continue;
    const lower = w.toLowerCase();
    if (FUNCTIONS.has(lower)) push({ t: "cmd", s: lower });
    else if (lower === "and" || lower === "or") push({ t: "op", s: lower });
    else push({ t: "word", s: w });
  }
}
