import { createECDH, generateKeyPairSync } from "node:crypto";
import { describe, expect, test } from "vitest";
import { ecPointProblem, isOnCurve, type EcCurve } from "./ec-point.js";

const big = (b: Uint8Array): bigint => BigInt(`0x${Buffer.from(b).toString("hex")}`);
const octets = (n: bigint, length: number): Uint8Array =>
  Uint8Array.from(Buffer.from(n.toString(16).padStart(2 * length, "0"), "hex"));

const curves: readonly { curve: EcCurve; openssl: string; size: number; p: bigint }[] = [
  {
    curve: "P-256",
    openssl: "prime256v1",
    size: 32,
    p: 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n,
  },
  { curve: "P-384", openssl: "secp384r1", size: 48, p: 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n },
];

/** A fresh key's public point, uncompressed (0x04‖X‖Y), and the same point compressed. */
function freshPoint(openssl: string): { uncompressed: Uint8Array; compressed: Uint8Array } {
  const ecdh = createECDH(openssl);
  ecdh.generateKeys();
  return {
    uncompressed: new Uint8Array(ecdh.getPublicKey()),
    compressed: new Uint8Array(ecdh.getPublicKey(null, "compressed")),
  };
}

describe.each(curves)("$curve points", ({ curve, openssl, size, p }) => {
  test("keys node:crypto makes are accepted, and lie on the curve our constants describe", () => {
    for (let i = 0; i < 10; i++) {
      const { uncompressed } = freshPoint(openssl);
      expect(ecPointProblem(curve, uncompressed)).toBeUndefined();
      expect(
        isOnCurve(curve, big(uncompressed.subarray(1, 1 + size)), big(uncompressed.subarray(1 + size))),
      ).toBe(true);
    }
    const jwk = generateKeyPairSync("ec", { namedCurve: curve }).publicKey.export({ format: "jwk" });
    const x = Buffer.from(jwk.x!, "base64url");
    const y = Buffer.from(jwk.y!, "base64url");
    expect(ecPointProblem(curve, Uint8Array.from([4, ...x, ...y]))).toBeUndefined();
  });

  test("refuses the point at infinity (a single 0x00)", () => {
    expect(ecPointProblem(curve, Uint8Array.of(0))).toMatch(/point at infinity/);
  });

  test("refuses a compressed point, asking for the uncompressed form", () => {
    const { compressed } = freshPoint(openssl);
    expect([0x02, 0x03]).toContain(compressed[0]);
    expect(ecPointProblem(curve, compressed)).toMatch(/compressed point.*send the uncompressed form/);
  });

  test("refuses the hybrid forms 0x06/0x07 (RFC 5480 §2.2)", () => {
    const { uncompressed } = freshPoint(openssl);
    const yOdd = uncompressed[uncompressed.length - 1]! & 1;
    const hybrid = Uint8Array.from(uncompressed);
    hybrid[0] = 0x06 | yOdd;
    expect(ecPointProblem(curve, hybrid)).toMatch(/hybrid form.*RFC 5480 §2\.2/);
  });

  test("refuses other first octets, wrong lengths, unreduced coordinates and points off the curve", () => {
    const { uncompressed } = freshPoint(openssl);
    expect(ecPointProblem(curve, Uint8Array.of(0x05, ...uncompressed.subarray(1)))).toMatch(/not an ECPoint/);
    expect(ecPointProblem(curve, uncompressed.subarray(0, uncompressed.length - 1))).toMatch(/octets, not/);
    expect(ecPointProblem(curve, Uint8Array.of(0x00, 0x00))).toMatch(/not an ECPoint/);
    const y = big(uncompressed.subarray(1 + size));
    // x = p names the residue 0: not an encoding of any coordinate (SEC 1 §2.3.4 wants x < p).
    expect(ecPointProblem(curve, Uint8Array.of(4, ...octets(p, size), ...octets(y, size)))).toMatch(
      /not reduced/,
    );
    const off = Uint8Array.from(uncompressed);
    off[off.length - 1]! ^= 0x01;
    expect(ecPointProblem(curve, off)).toBe("the EC key is not a point on its curve");
    expect(ecPointProblem(curve, Uint8Array.of(4, ...new Uint8Array(2 * size)))).toBe(
      "the EC key is not a point on its curve",
    );
  });
});
