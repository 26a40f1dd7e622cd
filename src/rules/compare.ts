/** Comparison of typed values: by type, exactly where the gold is exact, never by float equality alone. */
import type { Node } from "./ast.js";
import type { CompareContext } from "./context.js";
import { Complex as C, type Complex, EvaluationError, evalComplex } from "./numeric.js";
import { close, isFiniteC, MIN_AGREEING_POINTS, points } from "./points.js";
import { realSetsEqual } from "./realset.js";
import { scalarEq } from "./scalar.js";
import { freeSymbols } from "./symbols.js";
import { renameValue, type Value, valueSymbols } from "./values.js";

export type { CompareContext } from "./context.js";

/**
 * A free variable keeps its name: x + 1 and y + 1 are different answers. Only
 * what the gold binds may be renamed: a function's parameters (f(x) = 2x vs
 * f(m) = 2m), a solution set's variable, an equation's label (y = 2x vs 2x).
 */
export function answersEqual(
  gold: Value,
  answer: Value,
  ctx: CompareContext,
  goldBound: ReadonlySet<string> = new Set(),
  answerBound: ReadonlySet<string> = new Set(),
): boolean {
  return valuesEqual(gold, renameBound(gold, answer, goldBound, answerBound), ctx);
}

/**
 * When the gold binds a variable (x = k pi; k in Z; for some integer t; f(x) = ...) the answer
 * may call it otherwise: one bound name of the gold missing from the answer, and one name of the
 * answer missing from the gold, are the same variable.
 */
function renameBound(
  gold: Value,
  answer: Value,
  goldBound: ReadonlySet<string>,
  _answerBound: ReadonlySet<string>,
): Value {
  const as = valueSymbols(answer);
  const gs = valueSymbols(gold);
  const g = [...goldBound].filter((s) => !as.has(s));
  const a = [...as].filter((s) => !gs.has(s));
  if (g.length !== 1 || a.length !== 1) return answer;
  return renameValue(answer, new Map([[a[0] as string, g[0] as string]]));
}

function unwrap(v: Value): Value {
  return v.t === "list" && v.items.length === 1 ? (v.items[0] as Value) : v;
}

/** The value with its label dropped: `x = 2` -> 2, `f(x) = 2x` -> 2x. */
function unlabel(v: Value): Value {
  if (v.t === "eq") return unlabel(v.value);
  if (v.t === "fdef") return { t: "scalar", node: v.body };
  return v;
}

export function valuesEqual(gold: Value, answer: Value, ctx: CompareContext): boolean {
  ctx.budget.check();
  const g = unwrap(gold);
  const a = unwrap(answer);
  if (g.t === "fdef" && a.t === "fdef") {
    if (g.params.length !== a.params.length) return false;
    const map = new Map(a.params.map((p, i) => [p, g.params[i] as string]));
    const renamed = renameValue(a, map) as typeof a;
    return scalarEq(g.body, renamed.body, ctx);
  }
  // "y = 2x + 1" against "2x - y + 1 = 0": one equation written two ways.
  if (g.t === "rel" && a.t === "eq") return valuesEqual(g, asEquation(a) ?? unlabel(a), ctx);
  if (a.t === "rel" && g.t === "eq") return valuesEqual(asEquation(g) ?? unlabel(g), a, ctx);
  if (g.t === "eq" || g.t === "fdef" || a.t === "eq" || a.t === "fdef")
    return valuesEqual(unlabel(g), unlabel(a), ctx);
  if (isEmpty(g) && a.t === "text") return NO_SOLUTION.test(a.s);
  if (isEmpty(a) && g.t === "text") return NO_SOLUTION.test(g.s);
  switch (g.t) {
    case "scalar":
      if (a.t !== "scalar" || (g.unit !== undefined && a.unit !== undefined && g.unit !== a.unit))
        return false;
      return scalarEq(g.node, a.node, ctx);
    case "text":
      return a.t === "text" && textKey(g.s) === textKey(a.s);
    case "list":
      return (a.t === "list" || a.t === "set" || a.t === "tuple") && unorderedEq(g.items, a.items, ctx);
    case "set":
      if (a.t === "list" || a.t === "set") return unorderedEq(g.items, a.items, ctx);
      return a.t === "realset" && realSetsEqual(g, a, ctx);
    case "tuple":
      if (a.t === "tuple" || a.t === "list") return orderedEq(g.items, a.items, ctx);
      if (a.t === "matrix") return vectorEq(a, g.items, ctx);
      return a.t === "realset" && realSetsEqual(g, a, ctx);
    case "realset":
      return realSetsEqual(g, a, ctx);
    case "matrix":
      if (a.t === "matrix") return matrixEq(g, a, ctx);
      return a.t === "tuple" && vectorEq(g, a.items, ctx);
    case "rel":
      if (a.t === "rel") return relEq(g, a, ctx);
      if (a.t === "list" || a.t === "tuple") return orderingEq(g, a.items, ctx);
      return (
        a.t === "scalar" &&
        g.ops.length === 1 &&
        g.ops[0] === "=" &&
        equationGives(g.items as [Node, Node], a.node, ctx)
      );
  }
  return false;
}

/** `y = 2x + 1` as the relation it is, when its label is a variable. */
function asEquation(v: Extract<Value, { t: "eq" }>): Value | undefined {
  if (v.value.t !== "scalar" || !/^[A-Za-z](?:_\w+)?$/.test(v.name)) return undefined;
  return { t: "rel", ops: ["="], items: [{ k: "sym", name: v.name }, v.value.node] };
}

/** Ways to say a set is empty. */
const NO_SOLUTION =
  /^(?:there\s+(?:is|are)\s+)?(?:no\s+(?:real\s+|such\s+|integer\s+)?(?:solutions?|roots?|values?|numbers?)|none|does\s+not\s+exist|dne|the\s+empty\s+set|empty\s+set)$/i;

function isEmpty(v: Value): boolean {
  return (v.t === "set" && v.items.length === 0) || (v.t === "realset" && v.parts.length === 0);
}

function textKey(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, "");
}

function orderedEq(g: Value[], a: Value[], ctx: CompareContext): boolean {
  return g.length === a.length && g.every((x, i) => valuesEqual(x, a[i] as Value, ctx));
}

function labelOf(v: Value): string | undefined {
  return v.t === "eq" || v.t === "fdef" ? v.name : undefined;
}

/** Multiset equality: a perfect matching between gold items and answer items. */
function unorderedEq(g: Value[], a: Value[], ctx: CompareContext): boolean {
  if (g.length !== a.length) return false;
  // Labelled on both sides with the same labels: pair by label.
  const gl = g.map(labelOf);
  const al = a.map(labelOf);
  if (
    gl.every((l) => l) &&
    al.every((l) => l) &&
    new Set(gl).size === g.length &&
    gl.every((l) => al.includes(l))
  ) {
    return g.every((x, i) => valuesEqual(x, a[al.indexOf(gl[i])] as Value, ctx));
  }
  if (orderedEq(g, a, ctx)) return true;
  // Gold "x = 2, y = 3" against bare "3, 2": the order is the only link to the names.
  if (gl.every((l) => l) && new Set(gl).size === g.length && al.every((l) => !l)) return false;
  const memo = new Map<number, boolean>();
  const eq = (i: number, j: number) => {
    const key = i * a.length + j;
    let r = memo.get(key);
    if (r === undefined) {
      r = valuesEqual(g[i] as Value, a[j] as Value, ctx);
      memo.set(key, r);
    }
    return r;
  };
  const owner: number[] = new Array(a.length).fill(-1);
  const tryAssign = (i: number, seen: boolean[]): boolean => {
    for (let j = 0; j < a.length; j++) {
      if (seen[j] || !eq(i, j)) continue;
      seen[j] = true;
      if (owner[j] === -1 || tryAssign(owner[j] as number, seen)) {
        owner[j] = i;
        return true;
      }
    }
    return false;
  };
  for (let i = 0; i < g.length; i++) if (!tryAssign(i, new Array(a.length).fill(false))) return false;
  return true;
}

function matrixEq(
  g: Extract<Value, { t: "matrix" }>,
  a: Extract<Value, { t: "matrix" }>,
  ctx: CompareContext,
) {
  return (
    g.rows.length === a.rows.length &&
    g.rows.every(
      (row, i) =>
        row.length === (a.rows[i] as Node[]).length &&
        row.every((x, j) => scalarEq(x, (a.rows[i] as Node[])[j] as Node, ctx)),
    )
  );
}

/** A one-row or one-column matrix against a tuple. */
function vectorEq(m: Extract<Value, { t: "matrix" }>, items: Value[], ctx: CompareContext): boolean {
  const flat =
    m.rows.length === 1
      ? m.rows[0]
      : m.rows.every((r) => r.length === 1)
        ? m.rows.map((r) => r[0] as Node)
        : undefined;
  if (!flat || flat.length !== items.length) return false;
  return flat.every((x, i) => {
    const it = items[i] as Value;
    return it.t === "scalar" && scalarEq(x, it.node, ctx);
  });
}

const FLIP: Record<string, string> = { "<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "=", "!=": "!=" };

function relEq(
  g: Extract<Value, { t: "rel" }>,
  a: Extract<Value, { t: "rel" }>,
  ctx: CompareContext,
): boolean {
  if (g.ops.length !== a.ops.length) return false;
  if (g.ops.length === 1 && g.ops[0] === "=" && a.ops[0] === "=" && proportional(g, a, ctx)) return true;
  const same =
    g.ops.every((o, i) => o === a.ops[i]) && g.items.every((x, i) => scalarEq(x, a.items[i] as Node, ctx));
  if (same) return true;
  const n = a.items.length;
  return (
    g.ops.every((o, i) => o === FLIP[a.ops[n - 2 - i] as string]) &&
    g.items.every((x, i) => scalarEq(x, a.items[n - 1 - i] as Node, ctx))
  );
}

/**
 * Two equations L = R are the same when L - R of one is a nonzero constant times
 * L - R of the other (a plane 2x - 3y + z - 7 = 0, its negation, its double): the
 * ratio, at seeded points, is one number, and where one side vanishes so does the other.
 */
function proportional(
  g: Extract<Value, { t: "rel" }>,
  a: Extract<Value, { t: "rel" }>,
  ctx: CompareContext,
): boolean {
  const diff = (r: Extract<Value, { t: "rel" }>): Node => ({
    k: "bin",
    op: "-",
    a: r.items[0] as Node,
    b: r.items[1] as Node,
  });
  const [fg, fa] = [diff(g), diff(a)];
  const vars = [...new Set([...freeSymbols(fg), ...freeSymbols(fa)])];
  if (vars.length === 0) return false;
  let ratio: Complex | undefined;
  let agree = 0;
  for (const pt of points(vars)) {
    ctx.budget.check();
    let x: Complex;
    let y: Complex;
    try {
      x = evalComplex(fg, pt.complex, ctx.budget);
      y = evalComplex(fa, pt.complex, ctx.budget);
    } catch (e) {
      if (e instanceof EvaluationError) continue;
      throw e;
    }
    if (!isFiniteC(x) || !isFiniteC(y)) continue;
    if (y.abs() < 1e-12 || x.abs() < 1e-12) {
      if (y.abs() >= 1e-12 || x.abs() >= 1e-12) return false;
      continue;
    }
    const r = x.div(y);
    if (ratio === undefined) ratio = r;
    else if (!close(r, ratio, 1e-9)) return false;
    agree++;
  }
  return agree >= MIN_AGREEING_POINTS;
}

/** Gold `b < a < d < c` (an ordering) against the list `b, a, d, c` in the same order. */
function orderingEq(g: Extract<Value, { t: "rel" }>, items: Value[], ctx: CompareContext): boolean {
  const op = g.ops[0] as string;
  if (!["<", ">", "<=", ">="].includes(op) || g.ops.some((o) => o !== op)) return false;
  if (g.items.length < 3 || g.items.length !== items.length) return false;
  return g.items.every((x, i) => {
    const it = items[i] as Value;
    return it.t === "scalar" && scalarEq(x, it.node, ctx);
  });
}

/**
 * Gold `L = R` against a bare expression: either the gold is an identity whose result R the answer
 * equals, or the gold is affine in one variable the answer lacks (y + 1 = ...) and the answer is its
 * unique solution.
 */
function equationGives([lhs, rhs]: [Node, Node], answer: Node, ctx: CompareContext): boolean {
  const gs = new Set([...freeSymbols(lhs), ...freeSymbols(rhs)]);
  const as = freeSymbols(answer);
  if (![...as].every((s) => gs.has(s))) return false;
  const missing = [...gs].filter((s) => !as.has(s));
  if (missing.length === 0) return scalarEq(lhs, rhs, ctx) && scalarEq(rhs, answer, ctx);
  if (missing.length !== 1) return false;
  const v = missing[0] as string;
  const others = [...as];
  const diff: Node = { k: "bin", op: "-", a: lhs, b: rhs };
  let agree = 0;
  for (const pt of points(others)) {
    try {
      const at = (x: Complex) => evalComplex(diff, new Map([...pt.complex, [v, x]]), ctx.budget);
      const e0 = at(new C(0, 0));
      const e1 = at(new C(1, 0));
      const e2 = at(new C(2, 0));
      const slope = e1.sub(e0);
      if (!close(e2.sub(e1), slope, 1e-9) || slope.abs() < 1e-12) return false;
      const sol = evalComplex(answer, pt.complex, ctx.budget);
      const res = at(sol);
      if (!isFiniteC(res)) continue;
      if (res.abs() > 1e-8 * Math.max(1, slope.abs(), sol.abs())) return false;
      agree++;
    } catch (e) {
      if (!(e instanceof EvaluationError)) throw e;
    }
  }
  return agree >= MIN_AGREEING_POINTS;
}
