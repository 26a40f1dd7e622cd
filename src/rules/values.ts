/** Interpretation of syntax trees as typed answer values (what the answer *is*, not how it was written). */
import type { Node } from "./ast.js";
import { realConstant } from "./numeric.js";
import { changesMeaning, isLabel, isUnitPhrase, qualifiedVars, unitKey } from "./prose.js";
import { freeSymbols, renameSymbols } from "./symbols.js";

export interface Interval {
  /** undefined = minus infinity */
  lo?: Node;
  /** undefined = plus infinity */
  hi?: Node;
  loClosed: boolean;
  hiClosed: boolean;
  /** Points removed from the interval (`A \setminus \{p\}`); resolved numerically when comparing. */
  holes?: Node[];
}

export type Value =
  /** `unit`: the unit or counted noun written after it ("cm" for "5 cm"), as a key. */
  | { t: "scalar"; node: Node; unit?: string }
  /** A named value: `x = 2`, `Maximum = 2`. */
  | { t: "eq"; name: string; value: Value }
  | { t: "fdef"; name: string; params: string[]; body: Node }
  /** Ordered; `(a, b)` with round brackets may also be read as an open interval. */
  | { t: "tuple"; items: Value[] }
  | { t: "set"; items: Value[] }
  /** Several answers; the order does not matter. */
  | { t: "list"; items: Value[] }
  /** `v`: the variable it was written for (x in "x < 3"), when there was one. */
  | { t: "realset"; parts: Interval[]; v?: string }
  | { t: "matrix"; rows: Node[][] }
  /** Any other relation, kept as written. */
  | { t: "rel"; ops: string[]; items: Node[] }
  | { t: "text"; s: string };

export class InterpretError extends Error {}

function isInf(n: Node): 0 | 1 | -1 {
  if (n.k === "const" && n.name === "inf") return 1;
  if (n.k === "neg") return isInf(n.a) === 1 ? -1 : 0;
  return 0;
}

/**
 * Answers are read strictly: prose beside the math must be a unit or what it
 * counts ("5 apples"), a label ("Total: 5"), or a connector the rules understand;
 * anything else ("3 is wrong", "guess: 3", "half of 3") is not a value the rules
 * can decide. Golds are read leniently. Set for the length of one `interpret` call.
 */
let strict = false;
/** Variables a qualifier binds ("for some integer t", "k \\in \\mathbb{Z}"): their names carry no meaning. */
let bound = new Set<string>();

export function interpret(node: Node, strictly = false): Value {
  return interpretBound(node, strictly).value;
}

/** The value, and the variables its qualifiers bind. */
export function interpretBound(node: Node, strictly = false): { value: Value; bound: Set<string> } {
  const [outerStrict, outerBound] = [strict, bound];
  strict = strictly;
  bound = new Set();
  try {
    return { value: interpretNode(node), bound };
  } finally {
    [strict, bound] = [outerStrict, outerBound];
  }
}

/** Number sets a qualifier may name: \\mathbb{Z}, \\mathbb{N}, \\mathbb{Q}, \\mathbb{C} (\\mathbb{R} is an interval by now). */
const NUMBER_SETS = new Set(["Z", "N", "Q", "C"]);

/** `k \\in \\mathbb{Z}` as a list item: it binds k and is not a value of the answer. */
function qualifierItem(n: Node): string | undefined {
  if (n.k !== "rel" || n.ops.length !== 1 || n.ops[0] !== "in") return undefined;
  const [v, set] = n.items as [Node, Node];
  return v.k === "sym" && set.k === "sym" && NUMBER_SETS.has(set.name) ? v.name : undefined;
}

function interpretNode(node: Node): Value {
  switch (node.k) {
    case "list":
      return interpretList(node.items, node.sep);
    case "group":
      return interpretGroup(node);
    case "set":
      return { t: "set", items: node.items.flatMap(expandItem) };
    case "builder":
      return builder(node.v, node.cond);
    case "setop":
      return setop(node.op, interpretNode(node.a), interpretNode(node.b));
    case "rel":
      return interpretRel(node.ops, node.items);
    case "matrix":
      return { t: "matrix", rows: node.rows };
    case "text":
      return { t: "text", s: node.words.join(" ") };
    case "pm":
      return { t: "list", items: expandPm(node).map((n) => ({ t: "scalar", node: n })) };
    case "bin":
      if (node.op === "-" && isSetLike(node.a) && isSetLike(node.b))
        return setop("minus", interpretNode(node.a), interpretNode(node.b));
      return scalar(node);
    default:
      return scalar(node);
  }
}

function isSetLike(n: Node): boolean {
  return n.k === "set" || n.k === "builder" || n.k === "setop" || (n.k === "group" && n.items.length === 2);
}

function scalar(node: Node): Value {
  const variants = expandPm(node);
  if (variants.length > 1) return { t: "list", items: variants.map((n) => ({ t: "scalar", node: n })) };
  return { t: "scalar", node };
}

/** A list item may hold ± (two values). */
function expandItem(node: Node): Value[] {
  const v = interpretNode(node);
  return v.t === "list" ? v.items : [v];
}

/** The variable a solution-set item is about, if any. */
function variableOf(v: Value): string | undefined {
  return v.t === "realset" ? v.v : v.t === "eq" ? v.name : undefined;
}

function interpretList(all: Node[], sep: "," | "or" | "and"): Value {
  const items = all.filter((n) => {
    const v = qualifierItem(n);
    if (v) bound.add(v);
    return !v;
  });
  if (items.length === 1) return interpretNode(items[0] as Node);
  const values = items.flatMap(expandItem);
  // "x < 1 or y > 2" is about two variables: no single set of reals.
  if (new Set(values.map(variableOf).filter((n) => n !== undefined)).size > 1)
    return { t: "list", items: values };
  // "a <= -2 or a = 1": one variable's solution set.
  if (sep === "or" && values.every((v) => v.t === "realset" || (v.t === "eq" && v.value.t === "scalar"))) {
    const parts = values.flatMap((v) =>
      v.t === "realset" ? v.parts : v.t === "eq" && v.value.t === "scalar" ? [point(v.value.node)] : [],
    );
    if (values.some((v) => v.t === "realset"))
      return { t: "realset", parts, v: values.map(variableOf).find(Boolean) };
  }
  // "x > 2 and x < 5": one variable's bounds, intersected.
  if (sep === "and" && values.every((v) => v.t === "realset" && v.parts.length === 1 && !v.parts[0]?.holes)) {
    const meet = intersect(values.map((v) => (v as { parts: Interval[] }).parts[0] as Interval));
    if (meet) return { t: "realset", parts: [meet], v: values.map(variableOf).find(Boolean) };
  }
  return { t: "list", items: values };
}

/** The tighter of two bounds (an absent node is infinite); undefined when they cannot be ordered. */
function tighter(
  a: Node | undefined,
  aClosed: boolean,
  b: Node | undefined,
  bClosed: boolean,
  lower: boolean,
): { node?: Node; closed: boolean } | undefined {
  if (!a) return { node: b, closed: bClosed };
  if (!b) return { node: a, closed: aClosed };
  const av = realConstant(a);
  const bv = realConstant(b);
  if (av === undefined || bv === undefined) return undefined;
  if (av === bv) return { node: a, closed: aClosed && bClosed };
  return (lower ? av > bv : av < bv) ? { node: a, closed: aClosed } : { node: b, closed: bClosed };
}

function intersect(ivs: Interval[]): Interval | undefined {
  let acc = ivs[0] as Interval;
  for (const iv of ivs.slice(1)) {
    const lo = tighter(acc.lo, acc.loClosed, iv.lo, iv.loClosed, true);
    const hi = tighter(acc.hi, acc.hiClosed, iv.hi, iv.hiClosed, false);
    if (!lo || !hi) return undefined;
    acc = { lo: lo.node, loClosed: lo.closed, hi: hi.node, hiClosed: hi.closed };
  }
  return acc;
}

function point(n: Node): Interval {
  return { lo: n, hi: n, loClosed: true, hiClosed: true };
}

function interpretGroup(node: Extract<Node, { k: "group" }>): Value {
  const { items, open, close } = node;
  const infinite = items.some((n) => isInf(n) !== 0);
  if (items.length === 2 && (open !== "(" || close !== ")" || infinite)) {
    const [lo, hi] = items as [Node, Node];
    return {
      t: "realset",
      parts: [
        {
          lo: isInf(lo) === -1 ? undefined : lo,
          hi: isInf(hi) === 1 ? undefined : hi,
          loClosed: open === "[" && isInf(lo) === 0,
          hiClosed: close === "]" && isInf(hi) === 0,
        },
      ],
    };
  }
  if (open !== "(" || close !== ")") throw new InterpretError("bracket pair that is not an interval");
  return { t: "tuple", items: items.flatMap(expandItem) };
}

/** Converts a value to a set of reals when it can be one (interval, finite set, solution set). */
export function asRealSet(v: Value): Interval[] | undefined {
  switch (v.t) {
    case "realset":
      return v.parts;
    case "tuple":
      if (v.items.length === 2 && v.items.every((x) => x.t === "scalar")) {
        const [lo, hi] = v.items.map((x) => (x as { node: Node }).node) as [Node, Node];
        return [
          {
            lo: isInf(lo) === -1 ? undefined : lo,
            hi: isInf(hi) === 1 ? undefined : hi,
            loClosed: false,
            hiClosed: false,
          },
        ];
      }
      return undefined;
    case "set":
      return v.items.every((x) => x.t === "scalar")
        ? v.items.map((x) => point((x as { node: Node }).node))
        : undefined;
    case "eq":
      return asRealSet(v.value);
    default:
      return undefined;
  }
}

function setop(op: "cup" | "cap" | "minus", a: Value, b: Value): Value {
  const ra = asRealSet(a);
  const rb = asRealSet(b);
  if (!ra || !rb) throw new InterpretError("set operation on something that is not a set of reals");
  if (op === "cup") return { t: "realset", parts: [...ra, ...rb] };
  if (op === "minus" && rb.every((p) => p.lo === p.hi && p.lo)) {
    const holes = rb.map((p) => p.lo as Node);
    return { t: "realset", parts: ra.map((iv) => ({ ...iv, holes: [...(iv.holes ?? []), ...holes] })) };
  }
  throw new InterpretError(`unsupported set operation ${op}`);
}

function builder(v: Node, cond: Node): Value {
  const set = interpretNode(cond);
  if (v.k !== "sym") throw new InterpretError("set builder over an expression");
  if (set.t === "realset") return { ...set, v: v.name };
  if (set.t === "eq" && set.name === v.name && set.value.t === "scalar")
    return { t: "realset", parts: [point(set.value.node)], v: v.name };
  throw new InterpretError("set builder condition");
}

const FLIP: Record<string, string> = { "<": ">", ">": "<", "<=": ">=", ">=": "<=" };

function interpretRel(ops: string[], items: Node[]): Value {
  const [first, second] = items as [Node, Node];
  if (ops.length === 1 && ops[0] === "with-prose") {
    const text = second as Extract<Node, { k: "text" }>;
    const tail = text.words;
    const qualified = qualifiedVars(tail, freeSymbols(first));
    for (const v of qualified ?? []) bound.add(v);
    if (strict) {
      // Logic's own quantifiers (\forall x > 0, ...) are notation, not prose.
      const lead = (text.lead ?? []).filter((w) => w !== "forall" && w !== "exists");
      if (lead.length > 0 || (tail.length > 0 && !isUnitPhrase(tail) && !qualified))
        throw new InterpretError(`prose around the answer: "${[...(text.lead ?? []), ...tail].join(" ")}"`);
    } else if (!qualified && [...(text.lead ?? []), ...tail].some(changesMeaning)) {
      return { t: "text", s: [...(text.lead ?? []), ...tail].join(" ") };
    }
    const value = interpretNode(first);
    // "5 cm" and "5 km" differ; "5 cm" and "5" do not (the unit may be left out).
    const unit = qualified ? undefined : unitKey(tail);
    return unit && value.t === "scalar" ? { ...value, unit } : value;
  }
  if (ops.length === 1 && ops[0] === "label") {
    const words = (first as Extract<Node, { k: "text" }>).words;
    if (strict && !isLabel(words)) throw new InterpretError(`not a label: "${words.join(" ")}"`);
    return interpretNode(second);
  }
  if (ops[0] === "~=") return approximation(ops, items);
  if (ops.length === 1 && ops[0] === "in") {
    const set = interpretNode(second);
    if (first.k === "sym" && asRealSet(set))
      return { t: "realset", parts: asRealSet(set) as Interval[], v: first.name };
    // "upto x \\in [a, b]" reads as a product of letters in a set: not a statement about one variable.
    if (strict && first.k !== "sym")
      throw new InterpretError("membership of something that is not a variable");
    return set;
  }
  if (ops.length === 1 && ops[0] === "=") {
    const named = equation(first, second);
    if (named) return named;
  }
  const rs = inequality(ops, items);
  if (rs) return rs;
  return { t: "rel", ops, items };
}

/**
 * "A ≈ 1.36": the exact part is the answer, "x ≈ 1.36": the number is. When both
 * sides are closed values they must agree to the decimal's precision: "3 ≈ 4" is
 * not an answer.
 */
function approximation(ops: string[], items: Node[]): Value {
  const [first, second] = items as [Node, Node];
  if (ops.length !== 1) throw new InterpretError("a chain of approximations");
  if (first.k === "sym") return interpretNode(second);
  // The approximate side is a number: "A ≈ 1.36 vs 2.36" is not an answer.
  const b = realConstant(second);
  if (interpretNode(second).t !== "scalar" || b === undefined)
    throw new InterpretError("an approximation by something not a number");
  const a = realConstant(first);
  if (a !== undefined) {
    const decimals = second.k === "num" ? (second.decimals ?? 0) : undefined;
    const tol = decimals === undefined ? 1e-2 * Math.max(1, Math.abs(a)) : 0.5 * 10 ** -decimals;
    if (Math.abs(a - b) > tol * (1 + 1e-9)) throw new InterpretError("an approximation that does not hold");
  }
  return interpretNode(first);
}

/** Left side of `f(x) = ...`: the function name and parameters, if it is one. */
function functionHead(n: Node): { name: string; params: string[] } | undefined {
  if (n.k !== "bin" || n.op !== "*" || n.a.k !== "sym") return undefined;
  const params = n.b.k === "sym" ? [n.b] : n.b.k === "group" ? n.b.items : [];
  if (params.length === 0 || !params.every((p) => p.k === "sym")) return undefined;
  return { name: n.a.name, params: params.map((p) => (p as { name: string }).name) };
}

/**
 * The name a left side gives its value, when it is only a name: points and
 * segments (AB, |PQ|), a ratio of names (A:B), a function at a point (f(3)). Not
 * "2x" or "x + 1": those are equations to solve.
 */
function labelName(n: Node): string | undefined {
  switch (n.k) {
    case "sym":
      return n.name;
    case "bin": {
      if (n.op !== "*" && n.op !== "/") return undefined;
      // Point names (AB, A:B) are capitals; "xy = 5" is a curve, not a name.
      const name = joinNames(n.a, n.b, n.op === "*" ? "" : ":");
      return name && /^[A-Z|:_0-9]+$/.test(name) ? name : undefined;
    }
    case "call":
      if (n.fn === "abs") {
        const inner = labelName(n.args[0] as Node);
        return inner && `|${inner}|`;
      }
      return undefined;
    default:
      return undefined;
  }
}

function joinNames(a: Node, b: Node, sep: string): string | undefined {
  const x = labelName(a);
  const y = x && labelName(b);
  return y ? `${x}${sep}${y}` : undefined;
}

/**
 * `y = ...`, `f(x) = ...`: a definition binds the variables of its right side (y = 2x + 1 and
 * y = 2t + 1 are one function; x = k pi and x = n pi one family).
 */
function equation(lhs: Node, rhs: Node): Value | undefined {
  const binds = (except: string[]) => {
    for (const v of freeSymbols(rhs)) if (!except.includes(v)) bound.add(v);
  };
  if (lhs.k === "text") {
    if (strict && !isLabel(lhs.words)) throw new InterpretError(`not a label: "${lhs.words.join(" ")}"`);
    binds([]);
    return { t: "eq", name: lhs.words.join(" ").toLowerCase(), value: interpretNode(rhs) };
  }
  if (lhs.k === "sym") {
    binds([lhs.name]);
    return { t: "eq", name: lhs.name, value: interpretNode(rhs) };
  }
  const head = functionHead(lhs);
  if (head) {
    binds([head.name]);
    return { t: "fdef", ...head, body: rhs };
  }
  // |PQ| = 5, AB = 5, A:B = 3:8: the left side names the value on the right.
  const name = labelName(lhs);
  if (name && [...freeSymbols(rhs)].every((v) => !freeSymbols(lhs).has(v))) {
    return { t: "eq", name, value: interpretNode(rhs) };
  }
  // (f(n), g(n)) = (n, 1): a system.
  if (lhs.k === "group" && rhs.k === "group" && lhs.items.length === rhs.items.length) {
    const parts = lhs.items.map((l, i) => equation(l, rhs.items[i] as Node));
    if (parts.every((p) => p !== undefined)) return { t: "tuple", items: parts as Value[] };
  }
  return undefined;
}

/** `a < x <= b`, `x < 3`, `3 > x`, `x != 0` in one variable: a set of reals. */
function inequality(ops: string[], items: Node[]): Value | undefined {
  if (!ops.every((o) => o in FLIP || o === "!=")) return undefined;
  const vars = items.map((n, i) => (n.k === "sym" ? i : -1)).filter((i) => i >= 0);
  for (const vi of vars) {
    const name = (items[vi] as { name: string }).name;
    if (items.some((n, i) => i !== vi && freeSymbols(n).has(name))) continue;
    if (ops.length === 1 && ops[0] === "!=") {
      const p = items[1 - vi] as Node;
      return {
        t: "realset",
        parts: [
          { hi: p, loClosed: false, hiClosed: false },
          { lo: p, loClosed: false, hiClosed: false },
        ],
        v: name,
      };
    }
    if (ops.includes("!=")) return undefined;
    // Read the chain as lower bounds on the left of the variable and upper bounds on the right (or flipped).
    const iv: Interval = { loClosed: false, hiClosed: false };
    const bound = (other: Node, op: string, otherIsLeft: boolean) => {
      const o = otherIsLeft ? op : (FLIP[op] as string);
      // o relates other to variable: other < x means lower bound.
      if (o === "<" || o === "<=") {
        iv.lo = isInf(other) === -1 ? undefined : other;
        iv.loClosed = o === "<=" && iv.lo !== undefined;
      } else {
        iv.hi = isInf(other) === 1 ? undefined : other;
        iv.hiClosed = o === ">=" && iv.hi !== undefined;
      }
    };
    if (vi > 0) bound(items[vi - 1] as Node, ops[vi - 1] as string, true);
    if (vi < items.length - 1) bound(items[vi + 1] as Node, ops[vi] as string, false);
    // Only the two neighbours of the variable are bounds; a longer chain is an ordering, not a set.
    if (items.length > 3 || (items.length === 3 && vi !== 1)) return undefined;
    if (items.length === 3 && (ops[0] as string)[0] !== (ops[1] as string)[0]) return undefined;
    return { t: "realset", parts: [iv], v: name };
  }
  return undefined;
}

/** a ± b -> [a + b, a - b]; every ± in one expression takes the same sign. */
export function expandPm(node: Node): Node[] {
  if (!hasPm(node)) return [node];
  return [resolvePm(node, true), resolvePm(node, false)];
}

function hasPm(n: Node): boolean {
  switch (n.k) {
    case "pm":
      return true;
    case "bin":
      return hasPm(n.a) || hasPm(n.b);
    case "neg":
    case "unit":
      return hasPm(n.a);
    case "call":
      return n.args.some(hasPm);
    default:
      return false;
  }
}

function resolvePm(n: Node, plus: boolean): Node {
  switch (n.k) {
    case "pm": {
      const b = resolvePm(n.b, plus);
      const minus = plus === n.minusFirst;
      if (!n.a) return minus ? { k: "neg", a: b } : b;
      return { k: "bin", op: minus ? "-" : "+", a: resolvePm(n.a, plus), b };
    }
    case "bin":
      return { ...n, a: resolvePm(n.a, plus), b: resolvePm(n.b, plus) };
    case "neg":
    case "unit":
      return { ...n, a: resolvePm(n.a, plus) };
    case "call":
      return { ...n, args: n.args.map((x) => resolvePm(x, plus)) };
    default:
      return n;
  }
}

/** Symbols a value depends on (labels and function names excluded). */
export function valueSymbols(v: Value, out: Set<string> = new Set()): Set<string> {
  const nodes = (ns: (Node | undefined)[]) => {
    for (const n of ns) if (n) freeSymbols(n, out);
  };
  switch (v.t) {
    case "scalar":
      nodes([v.node]);
      break;
    case "eq":
      valueSymbols(v.value, out);
      break;
    case "fdef":
      nodes([v.body]);
      for (const p of v.params) out.add(p);
      break;
    case "tuple":
    case "set":
    case "list":
      for (const x of v.items) valueSymbols(x, out);
      break;
    case "realset":
      for (const p of v.parts) nodes([p.lo, p.hi]);
      break;
    case "matrix":
      nodes(v.rows.flat());
      break;
    case "rel":
      nodes(v.items);
      break;
    default:
      break;
  }
  return out;
}

export function renameValue(v: Value, map: ReadonlyMap<string, string>): Value {
  const r = (n: Node) => renameSymbols(n, map);
  const ro = (n: Node | undefined) => n && r(n);
  switch (v.t) {
    case "scalar":
      return { t: "scalar", node: r(v.node) };
    case "eq":
      return { ...v, value: renameValue(v.value, map) };
    case "fdef":
      return { ...v, params: v.params.map((p) => map.get(p) ?? p), body: r(v.body) };
    case "tuple":
    case "set":
    case "list":
      return { ...v, items: v.items.map((x) => renameValue(x, map)) };
    case "realset":
      return { ...v, parts: v.parts.map((p) => ({ ...p, lo: ro(p.lo), hi: ro(p.hi) })) };
    case "matrix":
      return { ...v, rows: v.rows.map((row) => row.map(r)) };
    case "rel":
      return { ...v, items: v.items.map(r) };
    default:
      return v;
  }
}
