import type { ModelProfile } from "./registry.js";

/** One generated token with its log-probability, as OpenAI-compatible servers return it. */
export interface TokenLogprob {
  token: string;
  logprob: number;
  top_logprobs?: { token: string; logprob: number }[] | null;
}

export interface ReadVerdict {
  outcome: "true" | "false" | "unparseable";
  detail?: string;
}

type Profile = Pick<ModelProfile, "answerAfter" | "trueWords" | "falseWords">;

/**
 * Where the verdict starts: after the last occurrence of each marker in turn
 * (e.g. `</think>`, then `Answer:`), then past spaces and punctuation such as
 * `**` or quotes. -1 when the profile needs a marker and none is there.
 */
export function verdictStart(profile: Profile, text: string, markersOptional = false): number {
  let pos = 0;
  let found = profile.answerAfter.length === 0 || markersOptional;
  for (const m of profile.answerAfter) {
    const i = text.lastIndexOf(m);
    if (i >= pos) {
      pos = i + m.length;
      found = true;
    }
  }
  if (!found) return -1;
  const skip = /[^\p{L}\p{N}]*/uy;
  skip.lastIndex = pos;
  skip.exec(text);
  return skip.lastIndex;
}

/**
 * Read the model's verdict. The first word decides; failing that, the reply is
 * accepted when it names exactly one side as a whole word ("The answer is True"),
 * never when it names both (unlike a substring test, "False, not true" stays False).
 * Garbled text is unparseable, never read as a side: control characters, or a
 * first word that starts like a verdict word and runs on ("TrueL").
 * `reasoningSplit`: the server moved the reasoning into `reasoning_content`, so
 * the content is the bare verdict even without a marker.
 */
export function readVerdict(profile: Profile, content: string, reasoningSplit = false): ReadVerdict {
  const start = verdictStart(profile, content, reasoningSplit);
  if (start < 0) {
    return {
      outcome: "unparseable",
      detail: `no ${profile.answerAfter.join(" or ")} in the reply: ${snippet(content)}`,
    };
  }
  const rest = content.slice(start);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(rest)) {
    return { outcome: "unparseable", detail: `control characters in the reply: ${snippet(rest)}` };
  }
  const first = /^[\p{L}\p{N}]+/u.exec(rest)?.[0] ?? "";
  const side = classify(profile, first, false);
  if (side) return { outcome: side };
  const runOn = [...profile.trueWords, ...profile.falseWords].find((w) =>
    first.toLowerCase().startsWith(w.toLowerCase()),
  );
  if (runOn) {
    return { outcome: "unparseable", detail: `"${first}" is not ${runOn}: ${snippet(rest)}` };
  }
  const words = new Set(rest.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
  const saysTrue = profile.trueWords.some((w) => words.has(w.toLowerCase()));
  const saysFalse = profile.falseWords.some((w) => words.has(w.toLowerCase()));
  if (saysTrue !== saysFalse) return { outcome: saysTrue ? "true" : "false" };
  return {
    outcome: "unparseable",
    detail: `${saysTrue ? "both" : "neither"} ${profile.trueWords[0]} ${saysTrue ? "and" : "nor"} ${profile.falseWords[0]} in the reply: ${snippet(rest)}`,
  };
}

/** The generated token where the verdict starts (after the markers and any spaces or punctuation). */
function verdictToken(
  profile: Profile,
  tokens: TokenLogprob[],
  reasoningSplit: boolean,
): TokenLogprob | undefined {
  const ends: number[] = [];
  let text = "";
  for (const t of tokens) {
    text += t.token;
    ends.push(text.length);
  }
  const start = verdictStart(profile, text, reasoningSplit);
  if (start < 0 || start >= text.length) return undefined;
  return tokens[ends.findIndex((end) => end > start)];
}

/**
 * P(True) from the first verdict token: exp(logprob) summed over the alternatives
 * that read as True, normalised against those that read as False. An alternative
 * is compared without spaces, punctuation or case, so " True", "True" and "true"
 * are one side. A leading piece of a word ("Tr") counts only where the sampled
 * token is itself such a piece (a vocabulary that splits the verdict words).
 * Undefined when the position has no True or False alternative.
 */
export function pTrueFrom(
  profile: Profile,
  tokens: TokenLogprob[],
  reasoningSplit = false,
): number | undefined {
  const tok = verdictToken(profile, tokens, reasoningSplit);
  if (!tok) return undefined;
  const bare = (t: string) => t.replace(/[^\p{L}\p{N}]+/gu, "");
  const sampled = bare(tok.token);
  const pieces = !classify(profile, sampled, false) && !!classify(profile, sampled, true);
  let pt = 0;
  let pf = 0;
  for (const [token, lp] of alternatives(tok)) {
    const side = classify(profile, bare(token), pieces);
    if (side === "true") pt += Math.exp(lp);
    else if (side === "false") pf += Math.exp(lp);
  }
  return pt + pf > 0 ? pt / (pt + pf) : undefined;
}

/**
 * Whether the sampled verdict token is the most likely one of its position. With
 * greedy decoding it always is, unless the logprobs were taken before a
 * constraint (llama.cpp's `logit_bias` or `grammar`): then they do not describe
 * the verdict, and P(True) from them must not be paid.
 */
export function sampledIsTop(profile: Profile, tokens: TokenLogprob[], reasoningSplit = false): boolean {
  const tok = verdictToken(profile, tokens, reasoningSplit);
  if (!tok) return true;
  let top = Number.NEGATIVE_INFINITY;
  for (const [, lp] of alternatives(tok)) top = Math.max(top, lp);
  return tok.logprob >= top - 1e-6;
}

function alternatives(tok: TokenLogprob): Map<string, number> {
  const out = new Map<string, number>();
  for (const a of tok.top_logprobs ?? []) out.set(a.token, a.logprob);
  if (!out.has(tok.token)) out.set(tok.token, tok.logprob);
  return out;
}

function classify(profile: Profile, word: string, prefix: boolean): "true" | "false" | undefined {
  if (!word) return undefined;
  const w = word.toLowerCase();
  const hit = (list: string[]) =>
    list.some((x) => (prefix ? x.toLowerCase().startsWith(w) : x.toLowerCase() === w));
  const t = hit(profile.trueWords);
  const f = hit(profile.falseWords);
  return t === f ? undefined : t ? "true" : "false";
}

function snippet(s: string): string {
  const one = s.replace(/\s+/g, " ").trim();
  return JSON.stringify(one.length > 80 ? `${one.slice(0, 77)}...` : one);
}
