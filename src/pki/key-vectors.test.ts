/**
 * Public suites through the path a CSR takes: the key check (checkSubjectPublicKeyInfo), then
 * proof of possession (verifyProofOfPossession: key import and verifySignature). Read in place
 * from ../shared/vectors (test/support/vectors.ts); a suite that is absent is named and skipped.
 */
import { describe, expect, test } from "vitest";
import { signatureAlgorithms, type SignatureAlgorithmId } from "../crypto/algorithms.js";
import { isKeyfleetError } from "../domain/index.js";
import { readVectors, skipNote, vectorSuite } from "../../test/support/vectors.js";
import { verifyProofOfPossession } from "./csr.js";
import { checkSubjectPublicKeyInfo } from "./key-check.js";
import { keyAlgorithmOfSpki, readSubjectPublicKeyInfo } from "./spki.js";

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, "hex"));

/** The key check's answer: the code and message it refused with, or undefined. */
function keyRefusal(spki: Uint8Array): { code: string; message: string } | undefined {
  try {
    checkSubjectPublicKeyInfo(spki, "the key");
    return undefined;
  } catch (e) {
    if (!isKeyfleetError(e)) throw e;
    return { code: e.code, message: e.message };
  }
}

/** Whether the signature verifies through proof of possession (bad-signature is "no"). */
function verifies(
  algorithm: SignatureAlgorithmId,
  spki: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
) {
  const key = readSubjectPublicKeyInfo(spki, "the key");
  try {
    verifyProofOfPossession(
      signatureAlgorithms[algorithm],
      spki,
      key,
      keyAlgorithmOfSpki(key, "the key"),
      message,
      signature,
    );
    return true;
  } catch (e) {
    if (isKeyfleetError(e, "bad-signature")) return false;
    throw e;
  }
}

interface WycheproofFile {
  readonly testGroups: readonly {
    readonly publicKeyDer: string;
    readonly tests: readonly {
      readonly tcId: number;
      readonly comment: string;
      readonly msg: string;
      readonly sig: string;
      readonly result: "valid" | "invalid" | "acceptable";
    }[];
  }[];
}

interface Tally {
  readonly counts: Record<string, number>;
  /** Cases where our answer is not the suite's ("acceptable" ones are listed with ours). */
  readonly disagreements: string[];
  readonly acceptable: string[];
  /** Keys the key check refused, with its message. */
  readonly refusedKeys: string[];
}

function run(file: string, algorithm: SignatureAlgorithmId): Tally {
  const tally: Tally = { counts: {}, disagreements: [], acceptable: [], refusedKeys: [] };
  for (const group of readVectors<WycheproofFile>("wycheproof", file).testGroups) {
    const spki = hex(group.publicKeyDer);
    const refusal = keyRefusal(spki);
    if (refusal) tally.refusedKeys.push(`${refusal.code}: ${refusal.message} (${group.tests.length} cases)`);
    for (const t of group.tests) {
      tally.counts[t.result] = (tally.counts[t.result] ?? 0) + 1;
      const ok = verifies(algorithm, spki, hex(t.msg), hex(t.sig));
      const line = `tcId ${t.tcId} (${t.comment || "no comment"}): ${t.result}, we ${ok ? "accept" : "refuse"}`;
      if (t.result === "acceptable") tally.acceptable.push(line);
      else if (ok !== (t.result === "valid")) tally.disagreements.push(line);
    }
  }
  return tally;
}

describe(`Wycheproof signature vectors${skipNote("wycheproof")}`, () => {
  const skip = !vectorSuite("wycheproof");

  test.skipIf(skip).each([
    ["ecdsa_secp256r1_sha256_test.json", "ecdsa-sha256", { valid: 174, invalid: 310 }],
    ["ecdsa_secp384r1_sha384_test.json", "ecdsa-sha384", { valid: 194, invalid: 310 }],
    ["ed25519_test.json", "ed25519", { valid: 88, invalid: 63 }],
  ] as const)(
    "%s: every key passes the key check, every valid case verifies, every invalid one is refused",
    (file, algorithm, counts) => {
      const tally = run(file, algorithm);
      expect(tally.counts).toEqual(counts);
      expect(tally.refusedKeys).toEqual([]);
      expect(tally.disagreements).toEqual([]);
    },
  );

  test.skipIf(skip).each([
    ["rsa_signature_2048_sha256_test.json", { valid: 9, acceptable: 1, invalid: 249 }, 2],
    ["rsa_signature_3072_sha256_test.json", { valid: 8, acceptable: 1, invalid: 250 }, 1],
    ["rsa_signature_4096_sha256_test.json", { valid: 7, acceptable: 1, invalid: 250 }, 0],
  ] as const)(
    "%s: verification agrees with the suite; the key check refuses the e = 3 keys; MissingNull is refused",
    (file, counts, exponent3Groups) => {
      const tally = run(file, "rsa-pkcs1-sha256");
      expect(tally.counts).toEqual(counts);
      expect(tally.disagreements).toEqual([]);
      // The suite's e = 3 groups test verification under such keys; Keyfleet certifies none
      // (FIPS 186-5 §A.1.1: e > 2^16), so through the whole CSR path their valid cases are refused.
      expect(tally.refusedKeys).toHaveLength(exponent3Groups);
      for (const refused of tally.refusedKeys)
        expect(refused).toMatch(/^weak-key: .*exponent 3 is below 65537/);
      // "acceptable": a DigestInfo without the NULL parameters. RFC 8017 §9.2 encodes it with
      // NULL; OpenSSL 3 refuses the other form, and so do we.
      expect(tally.acceptable).toEqual([expect.stringMatching(/Missing NULL.*: acceptable, we refuse$/)]);
    },
  );
});

interface SpeccheckCase {
  readonly message: string;
  readonly pub_key: string;
  readonly signature: string;
}

const ed25519Spki = (key: string): Uint8Array => hex(`302a300506032b6570032100${key}`);

describe(`Ed25519 speccheck cases${skipNote("ed25519-speccheck")}`, () => {
  const skip = !vectorSuite("ed25519-speccheck");

  // What the key check says of each case's key, and what OpenSSL 3.0 (node:crypto) says of its
  // signature. The suite's README gives the orders; it sets no answer for a verifier, but for a CA
  // a key of small order (0, 1, 10, 11) must never be certified, whatever the signature does.
  const expected: readonly { key: RegExp | undefined; signature: boolean }[] = [
    { key: /small order/, signature: true }, // 0: small A and R, S = 0: OpenSSL verifies it
    { key: /small order/, signature: true }, // 1: small A: OpenSSL verifies it
    { key: undefined, signature: true }, // 2: mixed-order A (accepted, see key-check.ts), small R
    { key: undefined, signature: true }, // 3
    { key: undefined, signature: false }, // 4: passes only the cofactored equation
    { key: undefined, signature: false }, // 5
    { key: undefined, signature: false }, // 6: S > L
    { key: undefined, signature: false }, // 7: S ≫ L
    { key: undefined, signature: false }, // 8: non-canonical R
    { key: undefined, signature: false }, // 9
    { key: /x = 0 with the sign bit set/, signature: false }, // 10: non-canonical small A
    { key: /x = 0 with the sign bit set/, signature: true }, // 11: OpenSSL verifies it
  ];

  test.skipIf(skip)(
    "small-order and non-canonical keys are refused as keys, whatever OpenSSL says of the signature",
    () => {
      const cases = readVectors<SpeccheckCase[]>("ed25519-speccheck", "cases.json");
      expect(cases).toHaveLength(expected.length);
      cases.forEach((c, i) => {
        const spki = ed25519Spki(c.pub_key);
        const refusal = keyRefusal(spki);
        if (expected[i]!.key) {
          expect(refusal?.code, `case ${i}`).toBe("weak-key");
          expect(refusal?.message, `case ${i}`).toMatch(expected[i]!.key!);
        } else expect(refusal, `case ${i}`).toBeUndefined();
        expect(verifies("ed25519", spki, hex(c.message), hex(c.signature)), `case ${i}`).toBe(
          expected[i]!.signature,
        );
      });
    },
  );
});
