/** Exact rationals over BigInt, always reduced, denominator positive. */
export interface Rational {
  readonly n: bigint;
  readonly d: bigint;
}

/** Past this many bits an exact result is not worth computing (a giant power is a trap, not an answer). */
const MAX_BITS = 4096n;

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

export function rat(n: bigint, d = 1n): Rational {
  if (d === 0n) throw new RangeError("zero denominator");
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  const g = gcd(n, d);
  return g === 1n ? { n, d } : { n: n / g, d: d / g };
}

export const ZERO = rat(0n);
export const ONE = rat(1n);

export const add = (a: Rational, b: Rational): Rational => rat(a.n * b.d + b.n * a.d, a.d * b.d);
export const sub = (a: Rational, b: Rational): Rational => rat(a.n * b.d - b.n * a.d, a.d * b.d);
export const mul = (a: Rational, b: Rational): Rational => rat(a.n * b.n, a.d * b.d);
export const neg = (a: Rational): Rational => ({ n: -a.n, d: a.d });
export const eq = (a: Rational, b: Rational): boolean => a.n === b.n && a.d === b.d;
export const cmp = (a: Rational, b: Rational): number => {
  const l = a.n * b.d;
  const r = b.n * a.d;
  return l < r ? -1 : l > r ? 1 : 0;
};
export const isInt = (a: Rational): boolean => a.d === 1n;

export function div(a: Rational, b: Rational): Rational | undefined {
  return b.n === 0n ? undefined : rat(a.n * b.d, a.d * b.n);
}

function bits(x: bigint): bigint {
  return BigInt((x < 0n ? -x : x).toString(2).length);
}

/** a^k for integer k, or undefined when the result would be huge or undefined. */
export function powInt(a: Rational, k: bigint): Rational | undefined {
  if (k === 0n) return a.n === 0n ? undefined : ONE;
  if (k < 0n) {
    const p = powInt(a, -k);
    return p && div(ONE, p);
  }
  if ((bits(a.n) + bits(a.d)) * k > MAX_BITS) return undefined;
  return rat(a.n ** k, a.d ** k);
}

/** Exact integer k-th root of a non-negative bigint, if there is one. */
function intRoot(x: bigint, k: bigint): bigint | undefined {
  if (x < 0n) return undefined;
  if (x < 2n) return x;
  // Newton's method from above (2^ceil(bits/k) >= root) decreases monotonically to floor(root).
  let r = 1n << ((bits(x) + k - 1n) / k);
  for (;;) {
    const next = ((k - 1n) * r + x / r ** (k - 1n)) / k;
    if (next >= r) break;
    r = next;
  }
  return r ** k === x ? r : undefined;
}

/** a^(p/q) when the result is rational (perfect powers), else undefined. */
export function powRat(a: Rational, e: Rational): Rational | undefined {
  if (e.d === 1n) return powInt(a, e.n);
  if (e.d > 64n) return undefined;
  let base = a;
  let sign = 1n;
  if (base.n < 0n) {
    if (e.d % 2n === 0n) return undefined;
    base = neg(base);
    sign = -1n;
  }
  const rn = intRoot(base.n, e.d);
  const rd = intRoot(base.d, e.d);
  if (rn === undefined || rd === undefined) return undefined;
  return powInt(rat(sign * rn, rd), e.n);
}

export function factorial(a: Rational): Rational | undefined {
  if (a.d !== 1n || a.n < 0n || a.n > 500n) return undefined;
  let r = 1n;
  for (let i = 2n; i <= a.n; i++) r *= i;
  return rat(r);
}

export function binomial(n: Rational, k: Rational): Rational | undefined {
  if (n.d !== 1n || k.d !== 1n || n.n < 0n || n.n > 5000n) return undefined;
  if (k.n < 0n || k.n > n.n) return ZERO;
  let r = 1n;
  // C(n, k) = C(n, n - k): loop over the smaller.
  const rest = n.n - k.n;
  // biome-ignore lint/complexity/useMathMinMax: Math.min does not take bigints
  const kk = k.n < rest ? k.n : rest;
  for (let i = 1n; i <= kk; i++) r = (r * (n.n - kk + i)) / i;
  return rat(r);
}

export function toNumber(a: Rational): number {
  const n = Number(a.n);
  const d = Number(a.d);
  if (Number.isFinite(n) && Number.isFinite(d)) return n / d;
  // Both huge: scale down keeping the ratio.
  const shift = bits(a.d) - 60n;
  return shift > 0n ? Number(a.n >> shift) / Number(a.d >> shift) : n / d;
}

/** Parses "12", "-3.50", "1.5e-3" exactly; returns the value and the number of decimals written. */
export function parseDecimal(text: string): { value: Rational; decimals: number } | undefined {
  const m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m || (!m[2] && !m[3])) return undefined;
  const frac = m[3] ?? "";
  const exp = m[4] ? Number(m[4]) : 0;
  if (Math.abs(exp) > 400) return undefined;
  let value = rat(BigInt((m[2] || "0") + frac), 10n ** BigInt(frac.length));
  if (exp !== 0) value = mul(value, exp > 0 ? rat(10n ** BigInt(exp)) : rat(1n, 10n ** BigInt(-exp)));
  if (m[1]) value = neg(value);
  return { value, decimals: frac.length - exp };
}

/** Rounds half away from zero to `decimals` places (negative = tens, hundreds...). */
export function roundTo(a: Rational, decimals: number): Rational {
  const scale = decimals >= 0 ? rat(10n ** BigInt(decimals)) : rat(1n, 10n ** BigInt(-decimals));
  const s = mul(a, scale);
  const absN = s.n < 0n ? -s.n : s.n;
  let q = (2n * absN + s.d) / (2n * s.d);
  if (s.n < 0n) q = -q;
  return div(rat(q), scale) ?? ZERO;
}

export function format(a: Rational): string {
  return a.d === 1n ? a.n.toString() : `${a.n}/${a.d}`;
}
