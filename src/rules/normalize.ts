/**
 * String-level clean-up before tokenizing: repairs, delimiters, spacing and sizing
 * commands, unicode math, thousands separators. Anything with meaning (\text, \frac,
 * degrees, percent) is left for the tokenizer.
 */

/**
 * JSON-escaping accidents turn "\text" into TAB+"ext", "\frac" into FF+"rac" and so on.
 * Only repaired when the letters that follow make a real command, so prose is untouched.
 */
const CONTROL_ESCAPES: Record<string, string> = { "\t": "t", "\f": "f", "\b": "b", "\r": "r", "\v": "v" };
const REPAIRABLE = new Set([
  "text",
  "textbf",
  "textit",
  "times",
  "tan",
  "tfrac",
  "theta",
  "tau",
  "to",
  "frac",
  "fbox",
  "boxed",
  "binom",
  "beta",
  "begin",
  "bigg",
  "big",
  "right",
  "rangle",
  "rfloor",
  "rceil",
  "rho",
  "vec",
  "varphi",
  "vee",
]);

function repairEscapes(s: string): string {
  return s.replace(/[\t\f\b\r\v]([a-z]+)/g, (all, rest: string) => {
    const letter = CONTROL_ESCAPES[all[0] as string] as string;
    for (const cmd of REPAIRABLE) if (`${letter}${rest}`.startsWith(cmd)) return `\\${letter}${rest}`;
    return all;
  });
}

const UNICODE: [RegExp, string][] = [
  [/√/g, "\\sqrt "],
  [/∛/g, "\\sqrt[3] "],
  [/π/g, "\\pi "],
  [/∞/g, "\\infty "],
  [/≤|⩽/g, "\\le "],
  [/≥|⩾/g, "\\ge "],
  [/≠/g, "\\ne "],
  [/≈/g, "\\approx "],
  [/[−–—]/g, "-"],
  [/×/g, "\\times "],
  [/÷/g, "\\div "],
  [/[·⋅]/g, "\\cdot "],
  [/∪/g, "\\cup "],
  [/∩/g, "\\cap "],
  [/∈/g, "\\in "],
  [/±/g, "\\pm "],
  [/∓/g, "\\mp "],
  [/°/g, "^\\circ "],
  [/∀/g, "\\forall "],
  [/∃/g, "\\exists "],
  [/＞/g, ">"],
  [/＜/g, "<"],
  [/，/g, ","],
  [/（/g, "("],
  [/）/g, ")"],
  [/：/g, ":"],
  [/＝/g, "="],
  [/＋/g, "+"],
  [/[\u2009\u200a\u202f\u00a0\u3000]/g, " "],
  [/²/g, "^2"],
  [/³/g, "^3"],
  [/½/g, "(1/2)"],
  [/α/g, "\\alpha "],
  [/β/g, "\\beta "],
  [/θ/g, "\\theta "],
];

/** Commands that only change spacing or size; they carry no meaning. */
const SPACING =
  /\\(?:left|right|[bB]igg?[lrm]?|displaystyle|textstyle|scriptstyle|limits|nolimits|quad|qquad|enspace|thinspace|medspace|thickspace|negthinspace|hfill|phantom\{[^{}]*\}|mathstrut|strut)(?![a-zA-Z])|(?<!\\)\\[!,;:> ]/g;

export function normalizeLatex(input: string): string {
  let s = repairEscapes(input);
  // "\\frac" (a doubled backslash before a command name) is the same escaping accident.
  s = s.replace(
    /\\\\(?=(?:frac|dfrac|tfrac|sqrt|pi|text|sin|cos|tan|left|right|cdot|times|infty|bigg?)\b)/g,
    "\\",
  );
  s = s.replace(/<sup>([^<]*)<\/sup>/g, "^{$1}").replace(/<sub>([^<]*)<\/sub>/g, "_{$1}");
  s = repeatingDecimals(s);
  // "22,\!333": a comma with a negative thin space is LaTeX's thousands separator.
  s = s.replace(/(\d),\\!\s*(?=\d{3}(?!\d))/g, "$1");
  // Ordinals written as superscripts: 3^{\text{rd}}, 21^{st}.
  s = s.replace(/(\d)\s*\^\s*(?:\{\s*)?(?:\\text(?:rm)?\s*\{\s*)?(?:st|nd|rd|th)(?:\s*\})?(?:\s*\})?/g, "$1");
  for (const [re, rep] of UNICODE) s = s.replace(re, rep);
  s = s.replace(/\\left\.|\\right\./g, " ");
  // Named sets that are intervals or empty.
  s = s.replace(/\\mathbb\s*\{?R\}?(?![a-zA-Z^_])/g, "(-\\infty, \\infty)");
  s = s.replace(/\\(?:emptyset|varnothing)(?![a-zA-Z])|\\O(?![a-zA-Z])/g, "\\{\\}");
  s = s.replace(/\\[()[\]]/g, " ").replace(/\$/g, " ");
  s = s
    .replace(/\\begin\{(?:array)\}\{[^{}]*\}/g, "\\begin{pmatrix}")
    .replace(/\\end\{array\}/g, "\\end{pmatrix}");
  s = s.replace(/\\[dtc]frac(?![a-zA-Z])/g, "\\frac").replace(/\\[dt]binom(?![a-zA-Z])/g, "\\binom");
  s = s.replace(SPACING, " ").replace(/~/g, " ");
  s = s.replace(/\\(?:textdegree|degree)(?![a-zA-Z])/g, "^\\circ ");
  // Temperatures are not angles: 3°C is the number 3 with a unit.
  s = s.replace(
    /(?:\^\s*\{\s*\\circ\s*\}|\^\s*\\circ)\s*(?:\\mathrm\{[CF]\}|\\text\{[CF]\}|[CF])(?![a-zA-Z])/g,
    " ",
  );
  s = s.replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ(?![a-zA-Z])/g, "\\TVdeg ");
  s = s.replace(/(\d)\s*(?:\\text\{\s*degrees?\s*\}|degrees?(?![a-zA-Z]))/g, "$1\\TVdeg ");
  s = s.replace(/\\?%/g, "\\TVpct ");
  // Ordinals: "15th" is 15.
  s = s.replace(/(\d)(?:st|nd|rd|th)\b/g, "$1");
  // Thousands separators: "{,}" always; "1,000,000" only when the groups are exact and unspaced.
  s = s.replace(/(\d)\{,\}(?=\d{3})/g, "$1");
  s = s.replace(/(^|[^\d.,])(\d{1,3}(?:,\d{3})+)(?![\d,])/g, (all, pre: string, num: string) =>
    isLoneNumber(s, num) ? pre + num.replace(/,/g, "") : all,
  );
  // Full stops that are punctuation (not a decimal point) go.
  s = s.replace(/(^|[^\d])\.(?!\d)/g, "$1 ").replace(/(\d)\.(?!\d)/g, "$1 ");
  return s.replace(/\s+/g, " ").trim();
}

/**
 * A thousands-separated number is only read as one when no other number is around (units are fine)
 * and no bracket makes it look like a tuple: "(1,234)" is a pair.
 */
function isLoneNumber(whole: string, match: string): boolean {
  return !/[\d,([]|\\\{/.test(whole.replace(match, " "));
}

/**
 * Repeating decimals as the fractions they are: 0.\\overline{3} and 0.333... are 1/3,
 * 0.1\\overline{6} is 1/6, 0.142857142857... is 1/7. A trailing "..." on digits that do
 * not repeat marks a cut decimal: 3.14159... is read as 3.14159.
 */
function repeatingDecimals(s: string): string {
  const out = s.replace(
    /(?<![\d.])(\d+)\.(\d*)\\overline\s*\{(\d{1,12})\}/g,
    (_all, i: string, nr: string, r: string) => fraction(i, nr, r),
  );
  return out.replace(
    /(?<![\d.])(\d{1,40})\.(\d{1,40})(?!\d)(?:\.\.\.|\\[lc]?dots|…)/g,
    (_all, i: string, digits: string) => {
      const found = period(digits);
      return found
        ? fraction(i, digits.slice(0, found.start), digits.slice(found.start, found.start + found.length))
        : `${i}.${digits}`;
    },
  );
}

/**
 * Where the digits start repeating, and how long the repeating block is: its
 * last block must show 3 times (1 digit) or twice (longer); the repetition is
 * then followed back as far as it goes ("1666" is 1, then 6 repeating).
 */
function period(digits: string): { start: number; length: number } | undefined {
  for (let p = 1; p <= 6; p++) {
    const reps = p === 1 ? 3 : 2;
    if (digits.length < p * reps) continue;
    const block = digits.slice(-p);
    if (block.repeat(reps) !== digits.slice(-p * reps)) continue;
    let start = digits.length - p * reps;
    // Back one digit at a time while the digit is the one the period puts there.
    while (start > 0 && digits[start - 1] === digits[start - 1 + p]) start--;
    return { start, length: p };
  }
  return undefined;
}

/** I.NR(R repeating) as \\frac{p}{q}, exactly. */
function fraction(intPart: string, nonRep: string, rep: string): string {
  const n = BigInt(nonRep.length);
  const r = BigInt(rep.length);
  const den = 10n ** n * (10n ** r - 1n);
  const num = BigInt(intPart) * den + BigInt(nonRep || "0") * (10n ** r - 1n) + BigInt(rep);
  return `\\frac{${num}}{${den}}`;
}
