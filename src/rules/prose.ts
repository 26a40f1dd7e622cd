import { trimEnd } from "./text.js";

/**
 * What the rules know about prose next to an answer: the closed-class words that
 * change what a number means (negations, hedges, bounds, corrections, operations,
 * number words, conditions) in the languages models answer in, and the words
 * that cannot be part of a unit or a counted noun ("5 apples" is 5; "5 is wrong"
 * is not an answer). Pure data and predicates; no parsing here.
 */

/** English words that turn the math next to them into something else. */
const MEANING_EN = new Set(
  // negation and doubt
  (
    "not no none never neither nor isnt isn't arent aren't wasnt wasn't dont don't doesnt doesn't didnt didn't " +
    "cannot can't cant wont won't wrong incorrect false untrue except excluding without unless but anything other " +
    "maybe possibly perhaps probably likely unlikely guess guessing think believe suppose unsure unknown unclear " +
    "undefined undetermined indeterminate know idea sure either or vs versus alternatively " +
    // bounds and approximations
    "least most more less fewer greater smaller larger bigger higher lower under over above below beyond within " +
    "between than exceeds exceed exceeding upto nearly almost approximately approx about around roughly " +
    "circa some several many multiple infinitely any few " +
    // corrections
    "wait actually instead rather correction oops sorry hmm hm scratch redo recheck mistake " +
    // operations and number words
    // ("sum", "product", "of" name results: "the product of the roots is 42" is 42)
    "plus minus times divided multiplied over half halves twice double triple quadruple thrice quarter quarters " +
    "third thirds fifth fifths squared cubed " +
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen " +
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred hundreds " +
    "thousand thousands million millions billion billions trillion trillions dozen dozens score pair couple " +
    // conditions
    "if when whenever otherwise assuming assume provided depending depends given whereas while"
  ).split(/\s+/),
);

/** The same in other languages models answer in (lower case; CJK handled by substring below). */
const MEANING_OTHER = new Set(
  // French
  (
    "ne pas non jamais ou environ moins plus peut-être peut sauf sinon entre au-moins " +
    // Spanish / Portuguese / Italian
    "no o u aproximadamente cerca menos más mas quizás quizas tal vez excepto nunca ou não nao talvez cerca " +
    "circa forse meno più piu non mai oppure tranne " +
    // German
    "nicht kein keine keiner oder ungefähr ungefaehr etwa mindestens höchstens hoechstens mehr weniger " +
    "vielleicht außer ausser zwischen " +
    // Russian
    "не нет или около примерно приблизительно минимум максимум больше меньше возможно кроме " +
    // Arabic
    "لا ليس ليست أو او تقريبا تقريباً حوالي أكثر أقل ربما غير باستثناء"
  ).split(/\s+/),
);

/** CJK has no spaces: these change meaning wherever they appear in a run of characters. */
const MEANING_CJK = [
  "不",
  "没",
  "沒",
  "非",
  "或",
  "约",
  "約",
  "大概",
  "左右",
  "至少",
  "至多",
  "最多",
  "最少",
  "超过",
  "超過",
  "多于",
  "少于",
  "以上",
  "以下",
  "可能",
  "也许",
  "或许",
  "除了",
  "ない",
  "約",
  "以上",
  "未満",
  "または",
  "아니",
  "또는",
  "약",
];

/**
 * English function words: none of them can be (part of) a unit or a counted noun,
 * so "5 is wrong", "5 for n even", "5 in total" are prose, not "5 apples".
 */
const FUNCTION_EN = new Set(
  (
    "a an the this that these those it its is are was were be been being am has have had do does did will would " +
    "shall should can could may might must i we you he she they me us him her them my our your his their " +
    "and so then thus hence therefore because since as at by for from in into on onto to with per " +
    "which who whom whose what where why how final answer answers total totally exactly only just also too " +
    "get gets got gives give given equals equal equal to yes"
  ).split(/\s+/),
);

const letters = (w: string) => trimEnd(w.toLowerCase(), ".,;:!?'\"()");

/** Whether a word changes the meaning of the math it stands next to. */
export function changesMeaning(word: string): boolean {
  const w = letters(word);
  if (MEANING_EN.has(w) || MEANING_OTHER.has(w)) return true;
  return MEANING_CJK.some((c) => w.includes(c));
}

/** Phrases whose words alone say nothing: "up to 5" is a bound. */
const MEANING_PHRASES = /\bup\s+to\b|\bno\s+more\b|\bor\s+so\b/i;

/** Whether a run of prose (LaTeX and all: "\\text{not } 3") holds any word that changes meaning. */
export function proseChangesMeaning(text: string): boolean {
  if (MEANING_PHRASES.test(text)) return true;
  return (text.match(/[\p{L}\p{M}'’-]+/gu) ?? []).some((w) => changesMeaning(w));
}

/** Whether a text holds prose at all (a word of two letters or more, outside LaTeX command names). */
export function hasProse(text: string): boolean {
  return /(?<![\\\p{L}])[\p{L}\p{M}]{2,}/u.test(text);
}

/**
 * Whether words after a number can be its unit or what it counts: a short run of
 * content words ("apples", "red apples", "square feet", "km/h", "个苹果"), none a
 * function word or a word that changes meaning.
 */
export function isUnitPhrase(words: readonly string[]): boolean {
  if (words.length === 0 || words.length > 4) return false;
  return words.every((raw) => {
    const w = letters(raw);
    return w !== "" && !changesMeaning(w) && !FUNCTION_EN.has(w) && !/\d/.test(w);
  });
}

/**
 * Whether words before `:` or `=` can be a label ("Total: 5", "the area = 5",
 * "Paolo: 18"): a short run of words, none changing meaning ("guess: 3" is not a label).
 */
export function isLabel(words: readonly string[]): boolean {
  return words.length > 0 && words.length <= 6 && !words.some(changesMeaning);
}

/** What a qualifier may say a variable ranges over. */
const KINDS = new Set(
  (
    "integer integers real reals number numbers natural naturals whole rational rationals complex value values " +
    "positive negative nonnegative non-negative nonpositive non-positive nonzero non-zero odd even prime primes " +
    "arbitrary constant constants"
  ).split(" "),
);

/**
 * The variables that words after an answer quantify, when that is all they say
 * (which leaves the value as it is): "for all positive integers n", "for some
 * integer t", "where k is an integer", "for n >= 1", "for k in Z". `vars` are the
 * answer's free symbols; undefined when the words say anything else.
 */
export function qualifiedVars(words: readonly string[], vars: ReadonlySet<string>): string[] | undefined {
  const w = words.map((x) => x.toLowerCase());
  let i = 0;
  const isVar = (k: number) => vars.has(words[k] ?? "");
  if (["for", "with", "where"].includes(w[i] ?? "")) i++;
  else return undefined;
  const first = words[i] as string;
  // "where k is an integer", "with n being odd"
  if (isVar(i) && ["is", "are", "being"].includes(w[i + 1] ?? "")) {
    let j = i + 2;
    if (["a", "an", "any", "some"].includes(w[j] ?? "")) j++;
    const start = j;
    while (KINDS.has(w[j] ?? "")) j++;
    return j > start && j === w.length ? [first] : undefined;
  }
  // "for n >= 1", "for k in Z"
  if (isVar(i) && [">=", "<=", ">", "<", "!=", "in"].includes(w[i + 1] ?? "")) {
    const rest = w.slice(i + 2);
    const ok =
      rest.length === 1 && /^(?:-?\d+|[znqc])$|^(?:integers?|reals?|naturals?)$/.test(rest[0] as string);
    return ok ? [first] : undefined;
  }
  // "for all positive integers n", "for some integer t", "for every real x and y"
  if (["all", "any", "every", "each", "some"].includes(w[i] ?? "")) i++;
  while (KINDS.has(w[i] ?? "")) i++;
  if (!isVar(i)) return undefined;
  const named = [words[i] as string];
  i++;
  while (i < w.length) {
    if (!["and", ","].includes(w[i] as string) || !isVar(i + 1)) return undefined;
    named.push(words[i + 1] as string);
    i += 2;
  }
  return named;
}

/** Spellings of one unit. */
const UNIT_SYNONYMS: Record<string, string[]> = {
  m: ["meter", "metre", "meters", "metres"],
  cm: ["centimeter", "centimetre", "centimeters", "centimetres"],
  mm: ["millimeter", "millimetre", "millimeters", "millimetres"],
  km: ["kilometer", "kilometre", "kilometers", "kilometres"],
  in: ["inch", "inches"],
  ft: ["foot", "feet"],
  yd: ["yard", "yards"],
  mi: ["mile", "miles"],
  g: ["gram", "grams", "gramme", "grammes"],
  kg: ["kilogram", "kilograms", "kilo", "kilos"],
  mg: ["milligram", "milligrams"],
  lb: ["lbs", "pound", "pounds"],
  oz: ["ounce", "ounces"],
  s: ["sec", "secs", "second", "seconds"],
  min: ["mins", "minute", "minutes"],
  h: ["hr", "hrs", "hour", "hours"],
  l: ["liter", "litre", "liters", "litres"],
  ml: ["milliliter", "millilitre", "milliliters", "millilitres"],
  usd: ["dollar", "dollars", "$"],
  cent: ["cents", "¢"],
};
const UNIT_OF = new Map<string, string>();
for (const [key, names] of Object.entries(UNIT_SYNONYMS)) {
  UNIT_OF.set(key, key);
  for (const n of names) UNIT_OF.set(n, key);
}

/**
 * One key for the spellings of a unit ("Meters" and "m" are "m"), or undefined
 * when the phrase is not one known unit: counted nouns ("hard candies",
 * "lollipops") describe, and two descriptions may well be synonyms.
 */
export function unitKey(words: readonly string[]): string | undefined {
  if (words.length !== 1) return undefined;
  return UNIT_OF.get(letters(words[0] as string));
}
