import type { RuleOptions, RuleResult } from "./types.js";

export type { RuleOptions, RuleOutcomeName, RuleResult } from "./types.js";

/** Minimal placeholder: last \boxed{} (or the bare response), exact or numeric equality. */
export function verifyAnswer(gold: string, response: string, _options: RuleOptions): RuleResult {
  const extracted = lastBoxed(response) ?? response.trim();
  if (!extracted) return { outcome: "no_answer", extracted: "" };
  const g = normalize(gold);
  const a = normalize(extracted);
  if (g === a) return { outcome: "match", extracted };
  const gn = toNumber(g);
  const an = toNumber(a);
  if (gn !== undefined && an !== undefined && Math.abs(gn - an) <= 1e-9 * Math.max(1, Math.abs(gn))) {
    return { outcome: "match", extracted };
  }
  return { outcome: "mismatch", extracted };
}

function lastBoxed(text: string): string | undefined {
  const start = text.lastIndexOf("\\boxed{");
  if (start < 0) return undefined;
  let depth = 0;
  for (let i = start + 6; i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return text.slice(start + 7, i).trim();
  }
  return undefined;
}

function normalize(s: string): string {
  return s.replace(/\$/g, "").replace(/\\[dt]frac/g, "\\frac").replace(/\s+/g, "");
}

function toNumber(s: string): number | undefined {
  const frac = /^\\frac\{?(-?\d+)\}?\{?(\d+)\}?$/.exec(s);
  if (frac) return Number(frac[1]) / Number(frac[2]);
  return /^-?\d+(\.\d+)?$/.test(s) ? Number(s) : undefined;
}
