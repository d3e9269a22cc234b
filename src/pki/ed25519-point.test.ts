import { generateKeyPairSync } from "node:crypto";
import { describe, expect, test } from "vitest";
import {
  IDENTITY,
  L,
  P,
  add,
  decodePoint,
  ed25519KeyProblem,
  encodePoint,
  equals,
  hasSmallOrder,
  multiply,
  type Point,
} from "./ed25519-point.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, "hex"));

function point(h: string): Point {
  const d = decodePoint(bytes(h));
  if (!("point" in d)) throw new Error(`${h}: ${d.problem}`);
  return d.point;
}

/** y (and the sign bit) as the 32-octet little-endian encoding, reduced or not. */
function encodeY(y: bigint, sign: 0 | 1): Uint8Array {
  let v = y | (BigInt(sign) << 255n);
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

// RFC 8032 §5.1: B has y = 4/5.
const BASE = "5866666666666666666666666666666666666666666666666666666666666666";

// The eight points of the 8-torsion subgroup in their canonical encodings, as published in
// libsodium's small-order blocklist (ed25519_ref10.c) and the speccheck paper.
const torsion = [
  "0100000000000000000000000000000000000000000000000000000000000000", // identity (order 1)
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // (0, −1), order 2
  "0000000000000000000000000000000000000000000000000000000000000000", // order 4
  "0000000000000000000000000000000000000000000000000000000000000080", // order 4
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
];

describe("edwards25519 arithmetic", () => {
  test("the base point has order L, and keys node:crypto makes decode, re-encode and have order L", () => {
    expect(equals(multiply(point(BASE), L), IDENTITY)).toBe(true);
    expect(equals(multiply(point(BASE), L - 1n), IDENTITY)).toBe(false);
    for (let i = 0; i < 8; i++) {
      const raw = bytes(
        Buffer.from(
          generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" }).x!,
          "base64url",
        ).toString("hex"),
      );
      const p = point(hex(raw));
      expect(hex(encodePoint(p))).toBe(hex(raw));
      expect(equals(multiply(p, L), IDENTITY)).toBe(true);
      expect(ed25519KeyProblem(raw)).toBeUndefined();
    }
  });

  test("the multiples of an order-8 point are exactly the eight published torsion encodings", () => {
    const t8 = point(torsion[6]!);
    const multiples = Array.from({ length: 8 }, (_, i) => hex(encodePoint(multiply(t8, BigInt(i)))));
    expect(new Set(multiples)).toEqual(new Set(torsion));
    expect(equals(multiply(t8, 4n), IDENTITY)).toBe(false);
    expect(equals(multiply(t8, 8n), IDENTITY)).toBe(true);
  });
});

describe("ed25519KeyProblem refuses keys that need no private key", () => {
  test.each(torsion)("the torsion point %s (small order)", (h) => {
    expect(hasSmallOrder(point(h))).toBe(true);
    expect(ed25519KeyProblem(bytes(h))).toMatch(/point of small order, so anyone can make signatures/);
  });

  test("every encoding with y ≥ p (19 values, either sign), as non-canonical, whatever point it names", () => {
    for (let y = P; y < 2n ** 255n; y++) {
      for (const sign of [0, 1] as const) {
        expect(ed25519KeyProblem(encodeY(y, sign)), `y = p + ${y - P}`).toMatch(/y is not reduced/);
      }
    }
  });

  test("x = 0 with the sign bit set (the identity and (0, −1) written as 'negative'), as non-canonical", () => {
    expect(ed25519KeyProblem(encodeY(1n, 1))).toMatch(/x = 0 with the sign bit set/);
    expect(ed25519KeyProblem(encodeY(P - 1n, 1))).toMatch(/x = 0 with the sign bit set/);
  });

  test("a y with no x on the curve (u/v not a square, by Euler's criterion)", () => {
    const d = (((-121665n * modPow(121666n, P - 2n)) % P) + P) % P;
    let found = 0;
    for (let y = 2n; found < 5; y++) {
      const u = (y * y - 1n) % P;
      const v = (d * y * y + 1n) % P;
      const square = modPow((u * modPow(v, P - 2n)) % P, (P - 1n) / 2n) !== P - 1n;
      expect(ed25519KeyProblem(encodeY(y, 0)) === "the Ed25519 key is not a point on edwards25519").toBe(
        !square,
      );
      if (!square) found++;
    }
  });

  test("a key of the wrong length", () => {
    expect(ed25519KeyProblem(new Uint8Array(31))).toMatch(/32 octets, not 31/);
  });

  test("but accepts a point of mixed order (prime-order part plus torsion): signing it needs the private key", () => {
    const b = point(BASE);
    const mixed = add(multiply(b, 12345n), point(torsion[4]!));
    expect(hasSmallOrder(mixed)).toBe(false);
    expect(equals(multiply(mixed, L), IDENTITY)).toBe(false);
    expect(ed25519KeyProblem(encodePoint(mixed))).toBeUndefined();
  });
});

function modPow(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = ((base % P) + P) % P;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
  }
  return result;
}
