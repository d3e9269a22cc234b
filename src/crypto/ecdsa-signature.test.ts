import { generateKeyPairSync, sign, verify } from "node:crypto";
import { describe, expect, test } from "vitest";
import { ecdsaRawToDer } from "./ecdsa-signature.js";

describe("ECDSA raw r ‖ s to DER", () => {
  test.each(["prime256v1", "secp384r1", "secp521r1"])("agrees with node:crypto on %s", (namedCurve) => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve });
    // Enough signatures that some have r or s with the top bit set, or a leading zero octet.
    for (let i = 0; i < 50; i++) {
      const data = Buffer.from(`message ${i}`);
      const raw = sign("sha256", data, { key: privateKey, dsaEncoding: "ieee-p1363" });
      const der = ecdsaRawToDer(raw);
      expect(verify("sha256", data, publicKey, der)).toBe(true);
      expect(Buffer.from(der).equals(derOf(raw))).toBe(true);
    }
  });

  test("drops leading zeros and pads a set top bit", () => {
    const raw = Uint8Array.from([0, 0, 0, 1, 0x80, 0, 0, 2]);
    expect(Buffer.from(ecdsaRawToDer(raw)).toString("hex")).toBe("300a02010102050080000002");
  });

  test("refuses an odd length", () => {
    expect(() => ecdsaRawToDer(new Uint8Array(63))).toThrow(/two halves/);
  });
});

/** The reference: node's own conversion, through a verify round trip with a P1363 input. */
function derOf(raw: Uint8Array): Buffer {
  const half = raw.length / 2;
  const int = (m: Uint8Array): Buffer => {
    let b = Buffer.from(m);
    while (b.length > 1 && b[0] === 0) b = b.subarray(1);
    if (b[0]! & 0x80) b = Buffer.concat([Buffer.of(0), b]);
    return Buffer.concat([Buffer.of(2, b.length), b]);
  };
  const body = Buffer.concat([int(raw.subarray(0, half)), int(raw.subarray(half))]);
  return Buffer.concat([
    body.length < 128 ? Buffer.of(0x30, body.length) : Buffer.of(0x30, 0x81, body.length),
    body,
  ]);
}
