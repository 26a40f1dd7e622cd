/**
 * HTML by tagged template: every interpolated value is escaped unless it is already markup made here,
 * so text from the data (responses are hostile) can only ever render as text.
 */
const MARK = Symbol("html");

export interface Html {
  readonly [MARK]: true;
  readonly text: string;
}

const markup = (text: string): Html => ({ [MARK]: true, text });

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Text for an element's content or a quoted attribute value. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c] as string);
}

export type Part = Html | string | number | undefined | false | null | readonly Part[];

function render(p: Part): string {
  if (p === undefined || p === null || p === false) return "";
  if (Array.isArray(p)) return p.map(render).join("");
  if (typeof p === "object") return (p as Html).text;
  return escapeHtml(String(p));
}

export function html(strings: TemplateStringsArray, ...parts: Part[]): Html {
  return markup(strings.reduce((out, s, i) => out + s + (i < parts.length ? render(parts[i]) : ""), ""));
}

/** Trusted markup written in this folder (the style sheet, the script): never data. */
export const trusted = (text: string): Html => markup(text);
