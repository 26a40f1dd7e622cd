/** String helpers for untrusted text, written as loops where a regex would backtrack. */

/** `s` without the trailing characters listed in `chars` (a regex run anchored at $ is quadratic). */
export function trimEnd(s: string, chars: string): string {
  let end = s.length;
  while (end > 0 && chars.includes(s[end - 1] as string)) end--;
  return s.slice(0, end);
}
