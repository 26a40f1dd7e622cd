/** Free symbols of syntax trees, and renaming them. */
import type { Node } from "./ast.js";

/** Free symbols of a tree, in first-seen order. */
export function freeSymbols(node: Node, out: Set<string> = new Set()): Set<string> {
  switch (node.k) {
    case "sym":
      out.add(node.name);
      break;
    case "bin":
    case "setop":
      freeSymbols(node.a, out);
      freeSymbols(node.b, out);
      break;
    case "neg":
    case "unit":
      freeSymbols(node.a, out);
      break;
    case "pm":
      if (node.a) freeSymbols(node.a, out);
      freeSymbols(node.b, out);
      break;
    case "call":
    case "group":
    case "set":
    case "list":
      for (const a of node.k === "call" ? node.args : node.items) freeSymbols(a, out);
      break;
    case "rel":
      for (const a of node.items) freeSymbols(a, out);
      break;
    case "builder":
      freeSymbols(node.v, out);
      freeSymbols(node.cond, out);
      break;
    case "matrix":
      for (const r of node.rows) for (const a of r) freeSymbols(a, out);
      break;
    default:
      break;
  }
  return out;
}

/** Renames symbols (a map old -> new) throughout a tree. */
export function renameSymbols(node: Node, map: ReadonlyMap<string, string>): Node {
  if (map.size === 0) return node;
  const rec = (n: Node) => renameSymbols(n, map);
  switch (node.k) {
    case "sym":
      return map.has(node.name) ? { k: "sym", name: map.get(node.name) as string } : node;
    case "bin":
      return { ...node, a: rec(node.a), b: rec(node.b) };
    case "setop":
      return { ...node, a: rec(node.a), b: rec(node.b) };
    case "neg":
      return { ...node, a: rec(node.a) };
    case "unit":
      return { ...node, a: rec(node.a) };
    case "pm":
      return { ...node, a: node.a && rec(node.a), b: rec(node.b) };
    case "call":
      return { ...node, args: node.args.map(rec) };
    case "group":
    case "set":
    case "list":
      return { ...node, items: node.items.map(rec) } as Node;
    case "rel":
      return { ...node, items: node.items.map(rec) };
    case "builder":
      return { ...node, v: rec(node.v), cond: rec(node.cond) };
    case "matrix":
      return { ...node, rows: node.rows.map((r) => r.map(rec)) };
    default:
      return node;
  }
}
