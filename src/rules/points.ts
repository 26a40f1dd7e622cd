/** Seeded evaluation points and the float closeness tests used with them. */
import { Complex as C, type Complex } from "./numeric.js";
import type { Rational } from "./rational.js";
import * as Q from "./rational.js";

/** Random-point checks need this many points where both sides evaluate and agree. */
export const MIN_AGREEING_POINTS = 3;

export function isFiniteC(z: Complex): boolean {
  return Number.isFinite(z.re) && Number.isFinite(z.im);
}

export function close(x: Complex, y: Complex, tol: number): boolean {
  return x.sub(y).abs() <= tol * Math.max(1, x.abs(), y.abs());
}

export function isReal(z: Complex): boolean {
  return Math.abs(z.im) <= 1e-9 * Math.max(1, Math.abs(z.re));
}

export interface Point {
  exact?: Map<string, Rational>;
  complex: Map<string, Complex>;
}

/** Seeded points: six rational real points of both signs, then two complex ones. */
export function points(vars: string[]): Point[] {
  let seed = 0x9e3779b9;
  const rand = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out: Point[] = [];
  const dens = [7n, 11n, 13n];
  for (let p = 0; p < 8; p++) {
    const exact = new Map<string, Rational>();
    const complex = new Map<string, Complex>();
    vars.forEach((v, j) => {
      const den = dens[(p + j) % 3] as bigint;
      const sign = p % 3 === 1 ? -1n : 1n;
      const num = BigInt(2 + Math.floor(rand() * 30));
      const q = Q.rat(sign * num, den);
      exact.set(v, q);
      complex.set(v, new C(Q.toNumber(q), p >= 6 ? 0.3 + rand() : 0));
    });
    out.push(p >= 6 ? { complex } : { exact, complex });
  }
  return out;
}
