/** Balanced-brace scanning shared by extraction (\boxed{...}) and tokenizing (\text{...}). */

/** The body of a {...} group starting at or after `from` (skipping spaces); escaped braces do not count. */
export function braced(src: string, from: number): { body: string; end: number } | undefined {
  let i = from;
  while (src[i] === " ") i++;
  if (src[i] !== "{") return undefined;
  let depth = 0;
  for (let j = i; j < src.length; j++) {
    const ch = src[j];
    if (ch === "\\") {
      j++;
      continue;
    }
    if (ch === "{") depth++;
    else if (ch === "}" && --depth === 0) return { body: src.slice(i + 1, j), end: j + 1 };
  }
  return undefined;
}
