/** Sets of reals (intervals, unions, points, holes): canonical form and comparison. */
import type { Node } from "./ast.js";
import type { CompareContext } from "./context.js";
import { realConstant } from "./numeric.js";
import { scalarEq } from "./scalar.js";
import { asRealSet, type Interval, type Value } from "./values.js";

interface NumInterval {
  lo: number;
  hi: number;
  loClosed: boolean;
  hiClosed: boolean;
  loNode?: Node;
  hiNode?: Node;
}

const sameNum = (x: number, y: number) =>
  x === y ||
  (Number.isFinite(x) &&
    Number.isFinite(y) &&
    Math.abs(x - y) <= 1e-12 * Math.max(1, Math.abs(x), Math.abs(y)));

/** Endpoints as numbers, holes cut out, sorted and merged; undefined when an endpoint is not a constant. */
function canonical(parts: Interval[], ctx: CompareContext): NumInterval[] | undefined {
  let ivs: NumInterval[] = [];
  for (const p of parts) {
    const lo = p.lo ? realConstant(p.lo, ctx.budget) : Number.NEGATIVE_INFINITY;
    const hi = p.hi ? realConstant(p.hi, ctx.budget) : Number.POSITIVE_INFINITY;
    if (lo === undefined || hi === undefined || lo > hi) return undefined;
    let pieces: NumInterval[] = [
      { lo, hi, loClosed: p.loClosed, hiClosed: p.hiClosed, loNode: p.lo, hiNode: p.hi },
    ];
    for (const h of p.holes ?? []) {
      const hv = realConstant(h, ctx.budget);
      if (hv === undefined) return undefined;
      pieces = pieces.flatMap((iv) => {
        if (hv < iv.lo || hv > iv.hi) return [iv];
        if (sameNum(hv, iv.lo) && sameNum(hv, iv.hi)) return [];
        if (sameNum(hv, iv.lo)) return [{ ...iv, loClosed: false }];
        if (sameNum(hv, iv.hi)) return [{ ...iv, hiClosed: false }];
        return [
          { ...iv, hi: hv, hiClosed: false, hiNode: h },
          { ...iv, lo: hv, loClosed: false, loNode: h },
        ];
      });
    }
    ivs.push(...pieces);
  }
  ivs = ivs.filter((iv) => iv.lo < iv.hi || (iv.loClosed && iv.hiClosed));
  ivs.sort((x, y) => x.lo - y.lo || Number(y.loClosed) - Number(x.loClosed));
  const merged: NumInterval[] = [];
  for (const iv of ivs) {
    const last = merged[merged.length - 1];
    const touches = last && (iv.lo < last.hi || (sameNum(iv.lo, last.hi) && (last.hiClosed || iv.loClosed)));
    if (!last || !touches) {
      merged.push({ ...iv });
      continue;
    }
    if (sameNum(iv.lo, last.lo)) last.loClosed ||= iv.loClosed;
    if (iv.hi > last.hi && !sameNum(iv.hi, last.hi)) {
      last.hi = iv.hi;
      last.hiClosed = iv.hiClosed;
      last.hiNode = iv.hiNode;
    } else if (sameNum(iv.hi, last.hi)) last.hiClosed ||= iv.hiClosed;
  }
  return merged;
}

function endpointEq(
  g: Node | undefined,
  a: Node | undefined,
  gv: number,
  av: number,
  ctx: CompareContext,
): boolean {
  if (!Number.isFinite(gv) || !Number.isFinite(av)) return gv === av;
  return g !== undefined && a !== undefined && scalarEq(g, a, ctx);
}

export function realSetsEqual(gold: Value, answer: Value, ctx: CompareContext): boolean {
  const gp = asRealSet(gold);
  const ap = asRealSet(answer);
  if (!gp || !ap) return false;
  const gn = canonical(gp, ctx);
  const an = canonical(ap, ctx);
  if (gn && an) {
    return (
      gn.length === an.length &&
      gn.every((g, i) => {
        const a = an[i] as NumInterval;
        return (
          g.loClosed === a.loClosed &&
          g.hiClosed === a.hiClosed &&
          endpointEq(g.loNode, a.loNode, g.lo, a.lo, ctx) &&
          endpointEq(g.hiNode, a.hiNode, g.hi, a.hi, ctx)
        );
      })
    );
  }
  // Symbolic endpoints (k*pi - ...): compare as written, in order.
  if (gp.length !== ap.length || [...gp, ...ap].some((p) => p.holes?.length)) return false;
  const sameEnd = (x?: Node, y?: Node) =>
    x === undefined ? y === undefined : y !== undefined && scalarEq(x, y, ctx);
  return gp.every((g, i) => {
    const a = ap[i] as Interval;
    return (
      g.loClosed === a.loClosed && g.hiClosed === a.hiClosed && sameEnd(g.lo, a.lo) && sameEnd(g.hi, a.hi)
    );
  });
}
