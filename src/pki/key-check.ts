/**
 * Public key validation: the check every public key passes before Keyfleet does anything else with
 * it (CSRs now; IDevID and manufacturer certificates call the same function). A key fails when a
 * signature under it proves nothing: anyone can sign for it without the private key, or anyone
 * can compute the private key (RSA e = 1, an RSA modulus with a small factor, an Ed25519 point of
 * small order), or it is not a valid key of its algorithm (a point off its curve, a non-canonical
 * encoding), or it is in a form relying parties cannot read (a compressed or hybrid EC point).
 * Neither OpenSSL's CSR self-check nor pkilint refuses these (FIELD-NOTES), so the CA does.
 *
 * Failures are `weak-key`, with the rule in the message. The DER around the key (SPKI shape,
 * minimal positive INTEGERs) is the DER reader's, and fails as `malformed-request`; which
 * algorithm and size (RSA-2048/3072/4096, P-256, P-384, Ed25519) is the registry's, and fails as
 * `unsupported-algorithm` (spki.ts).
 *
 * Ed25519 keys of mixed order (a prime-order point plus a torsion point) are accepted: signing
 * still takes the private key, honest key generation never makes one, and refusing them costs a
 * scalar multiplication by L (≈ 0.7 ms, several times the whole CSR's parse); verifiers that
 * disagree on them (cofactored or not) disagree only on signatures their holder made.
 */
import { keyAlgorithms, type KeyAlgorithmId } from "../crypto/algorithms.js";
import { KeyfleetError } from "../domain/index.js";
import { ecPointProblem } from "./ec-point.js";
import { ed25519KeyProblem } from "./ed25519-point.js";
import { rsaKeyProblem } from "./rsa-key.js";
import {
  keyAlgorithmOfSpki,
  readRsaPublicKey,
  readSubjectPublicKeyInfo,
  type SubjectPublicKey,
} from "./spki.js";

/** Why the key, of registry algorithm `algorithm`, must not be certified; undefined when it may be. */
export function publicKeyProblem(
  k: SubjectPublicKey,
  algorithm: KeyAlgorithmId,
  what: string,
): string | undefined {
  const alg = keyAlgorithms[algorithm];
  switch (alg.keyType) {
    case "ec":
      return ecPointProblem(alg.namedCurve!, k.key);
    case "ed25519":
      return ed25519KeyProblem(k.key);
    case "rsa": {
      const { modulus, exponent } = readRsaPublicKey(k.key, what);
      const bits = (modulus.length - 1) * 8 + (32 - Math.clz32(modulus[0]!));
      if (bits !== alg.modulusLength)
        return `the RSA modulus has ${bits} bits, not the ${alg.label}'s ${alg.modulusLength}`;
      return rsaKeyProblem(modulus, exponent);
    }
  }
}

/** Throws `weak-key` for a key that must not be certified (see above). */
export function checkPublicKey(k: SubjectPublicKey, algorithm: KeyAlgorithmId, what: string): void {
  const problem = publicKeyProblem(k, algorithm, what);
  if (problem) throw new KeyfleetError("weak-key", `${what}: ${problem}`);
}

/**
 * A SubjectPublicKeyInfo (DER) read, identified in the registry and checked: what IDevID and
 * manufacturer-certificate parsing calls. Throws `malformed-request`, `unsupported-algorithm` or
 * `weak-key`.
 */
export function checkSubjectPublicKeyInfo(spki: Uint8Array, what: string): KeyAlgorithmId {
  const k = readSubjectPublicKeyInfo(spki, what);
  const algorithm = keyAlgorithmOfSpki(k, what);
  checkPublicKey(k, algorithm, what);
  return algorithm;
}
