/**
 * Ed25519 public keys as points of edwards25519 (RFC 8032 §5.1), in plain BigInt arithmetic: is an
 * encoding canonical, is it a point, is the point of small order? A CA needs these answers, not a
 * signature: a key of small order (the identity, or any of the 8-torsion points) "verifies"
 * signatures that anyone can make from public data, so proof of possession proves nothing and the
 * key must never be certified. node:crypto (OpenSSL) accepts such keys and such signatures.
 *
 * Not constant time, and it need not be: everything here is public. Cost, measured: decoding
 * (one exponentiation for the square root) ≈ 0.1 ms; the small-order test (three doublings) is
 * negligible. A full prime-order test ([L]A = O) would cost ≈ 0.7 ms and is not made: a key with
 * a torsion component is of mixed order and still needs its private key to sign (see key-check.ts).
 */

/** p = 2^255 − 19 */
export const P = 2n ** 255n - 19n;
/** The order of the prime-order subgroup (RFC 8032 §5.1: L). */
export const L = 2n ** 252n + 27742317777372353535851937790883648493n;

const mod = (a: bigint): bigint => {
  const r = a % P;
  return r < 0n ? r + P : r;
};

function pow(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
  }
  return result;
}

/** d = −121665/121666 (RFC 8032 §5.1) */
const D = mod(-121665n * pow(121666n, P - 2n));
/** √−1 = 2^((p−1)/4) (RFC 8032 §5.1.3 step 3) */
const SQRT_M1 = pow(2n, (P - 1n) / 4n);

/** A point in extended homogeneous coordinates (X : Y : Z : T), x = X/Z, y = Y/Z, xy = T/Z. */
export interface Point {
  readonly X: bigint;
  readonly Y: bigint;
  readonly Z: bigint;
  readonly T: bigint;
}

export const IDENTITY: Point = { X: 0n, Y: 1n, Z: 1n, T: 0n };

/** Point addition (RFC 8032 §5.1.4, the complete formulas: valid for doubling and the identity too). */
export function add(p: Point, q: Point): Point {
  const a = mod((p.Y - p.X) * (q.Y - q.X));
  const b = mod((p.Y + p.X) * (q.Y + q.X));
  const c = mod(2n * D * p.T * q.T);
  const d = mod(2n * p.Z * q.Z);
  const e = b - a;
  const f = d - c;
  const g = d + c;
  const h = b + a;
  return { X: mod(e * f), Y: mod(g * h), Z: mod(f * g), T: mod(e * h) };
}

/** [k]P by double-and-add (public values only). */
export function multiply(p: Point, k: bigint): Point {
  let result = IDENTITY;
  let addend = p;
  for (let n = k; n > 0n; n >>= 1n) {
    if (n & 1n) result = add(result, addend);
    addend = add(addend, addend);
  }
  return result;
}

export function negate(p: Point): Point {
  return { X: mod(-p.X), Y: p.Y, Z: p.Z, T: mod(-p.T) };
}

/** Projective equality: x1·z2 = x2·z1 and y1·z2 = y2·z1. */
export function equals(p: Point, q: Point): boolean {
  return mod(p.X * q.Z - q.X * p.Z) === 0n && mod(p.Y * q.Z - q.Y * p.Z) === 0n;
}

export type DecodeResult =
  | { readonly point: Point }
  | { readonly problem: "length" | "non-canonical y" | "non-canonical x" | "not on the curve" };

/** RFC 8032 §5.1.3 decoding, strict: y < p, and x = 0 only with the sign bit clear. */
export function decodePoint(encoded: Uint8Array): DecodeResult {
  if (encoded.length !== 32) return { problem: "length" };
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(encoded[i]!);
  const sign = y >> 255n;
  y &= (1n << 255n) - 1n;
  if (y >= P) return { problem: "non-canonical y" };
  // x² = (y² − 1) / (d·y² + 1); the candidate root is u·v³·(u·v⁷)^((p−5)/8) (§5.1.3 step 3).
  const y2 = mod(y * y);
  const u = mod(y2 - 1n);
  const v = mod(D * y2 + 1n);
  const v3 = mod(v * v * v);
  let x = mod(u * v3 * pow(u * v3 * v3 * v, (P - 5n) / 8n));
  const vx2 = mod(v * x * x);
  if (vx2 === mod(-u)) x = mod(x * SQRT_M1);
  else if (vx2 !== u) return { problem: "not on the curve" };
  if (x === 0n && sign === 1n) return { problem: "non-canonical x" };
  if ((x & 1n) !== sign) x = P - x;
  return { point: { X: x, Y: y, Z: 1n, T: mod(x * y) } };
}

/** RFC 8032 §5.1.2 encoding: y little-endian, the sign of x in the top bit. */
export function encodePoint(p: Point): Uint8Array {
  const zInverse = pow(p.Z, P - 2n);
  const x = mod(p.X * zInverse);
  let y = mod(p.Y * zInverse) | ((x & 1n) << 255n);
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, y >>= 8n) out[i] = Number(y & 0xffn);
  return out;
}

/** Of small order: [8]P is the identity (the 8-torsion subgroup: orders 1, 2, 4 and 8). */
export function hasSmallOrder(p: Point): boolean {
  const p2 = add(p, p);
  const p4 = add(p2, p2);
  return equals(add(p4, p4), IDENTITY);
}

/**
 * Why `encoded` is not an Ed25519 public key a CA may certify, or undefined when it is one:
 * 32 octets, canonical, a point of the curve, not of small order.
 */
export function ed25519KeyProblem(encoded: Uint8Array): string | undefined {
  const decoded = decodePoint(encoded);
  if ("problem" in decoded) {
    switch (decoded.problem) {
      case "length":
        return `an Ed25519 key is 32 octets, not ${encoded.length}`;
      case "non-canonical y":
        return "the Ed25519 point's y is not reduced mod 2^255 − 19 (non-canonical encoding, RFC 8032 §5.1.3)";
      case "non-canonical x":
        return "the Ed25519 point has x = 0 with the sign bit set (non-canonical encoding, RFC 8032 §5.1.3)";
      case "not on the curve":
        return "the Ed25519 key is not a point on edwards25519";
    }
  }
  if (hasSmallOrder(decoded.point)) {
    return "the Ed25519 key is a point of small order, so anyone can make signatures for it";
  }
  return undefined;
}
