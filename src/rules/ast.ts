/** Syntax tree produced by the parser; interpretation into values happens in values.ts. */

import type { Rational } from "./rational.js";
import * as Q from "./rational.js";

export type Node =
  /** A numeric literal; `decimals` is set when written with a decimal point (an approximation). */
  | { k: "num"; v: Rational; decimals?: number; text: string }
  | { k: "sym"; name: string }
  | { k: "const"; name: "pi" | "e" | "i" | "inf" }
  /** `frac` marks a \frac, so "2\frac{1}{2}" can read as a mixed number. */
  | { k: "bin"; op: "+" | "-" | "*" | "/" | "^"; a: Node; b: Node; frac?: boolean }
  | { k: "neg"; a: Node }
  /** a ± b (a may be absent: ±b). */
  | { k: "pm"; a?: Node; b: Node; minusFirst: boolean }
  | { k: "call"; fn: string; args: Node[] }
  /** Degrees and percent marks on a value. */
  | { k: "unit"; unit: "deg" | "pct"; a: Node }
  /** Bracketed comma list with at least two items, or an interval-looking pair. */
  | { k: "group"; open: "(" | "["; close: ")" | "]"; items: Node[] }
  | { k: "set"; items: Node[] }
  | { k: "builder"; v: Node; cond: Node }
  | { k: "setop"; op: "cup" | "cap" | "minus"; a: Node; b: Node }
  /** Relation chain: items[0] ops[0] items[1] ops[1] items[2]... */
  | { k: "rel"; ops: string[]; items: Node[] }
  | { k: "matrix"; rows: Node[][] }
  /** Top-level list; `sep` "or" marks alternatives. */
  | { k: "list"; items: Node[]; sep: "," | "or" | "and" }
  /** Prose; beside math (a "with-prose" relation), `lead` holds the words before it. */
  | { k: "text"; words: string[]; lead?: string[] }
  /** Something the evaluator cannot take (\cdots): compared structurally only. */
  | { k: "opaque"; s: string };

export function hasOpaque(n: Node): boolean {
  return nodeKey(n).includes("opaque");
}

/** Canonical text of a tree, for structural equality. */
export function nodeKey(n: Node): string {
  switch (n.k) {
    case "num":
      return Q.format(n.v) + (n.decimals === undefined ? "" : `~${n.decimals}`);
    case "sym":
      return `$${n.name}`;
    case "const":
      return `#${n.name}`;
    case "bin":
      return `(${nodeKey(n.a)}${n.op}${nodeKey(n.b)})`;
    case "neg":
      return `-(${nodeKey(n.a)})`;
    case "unit":
      return `${n.unit}(${nodeKey(n.a)})`;
    case "pm":
      return `pm(${n.a ? nodeKey(n.a) : ""},${nodeKey(n.b)})`;
    case "call":
      return `${n.fn}(${n.args.map(nodeKey).join(",")})`;
    case "opaque":
      return `opaque:${n.s}`;
    default:
      return `${n.k}:${JSON.stringify(n, (_k, v) => (typeof v === "bigint" ? v.toString() : v))}`;
  }
}
