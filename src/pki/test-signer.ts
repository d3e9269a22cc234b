/**
 * TEST SUPPORT ONLY — not exported from index.ts. A Signer over a KeyObject held in memory, for
 * unit and interop tests; production signers come from a KeyStore (src/crypto).
 */
import { sign, type KeyObject } from "node:crypto";
import {
  generateKeyPair,
  keyAlgorithm,
  signatureAlgorithms,
  type KeyAlgorithmId,
} from "../crypto/algorithms.js";
import type { Signer } from "../crypto/key-store.js";

export interface TestKey {
  readonly signer: Signer;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export function testSignerFromKeys(
  algorithm: KeyAlgorithmId,
  privateKey: KeyObject,
  publicKey: KeyObject,
): TestKey {
  const signatureAlgorithm = signatureAlgorithms[keyAlgorithm(algorithm).signature];
  const signer: Signer = {
    keyAlgorithm: algorithm,
    signatureAlgorithm,
    publicKey: new Uint8Array(publicKey.export({ format: "der", type: "spki" })),
    sign: async (data) => new Uint8Array(sign(signatureAlgorithm.hash, data, privateKey)),
  };
  return { signer, privateKey, publicKey };
}

export async function testSigner(algorithm: KeyAlgorithmId): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(algorithm);
  return testSignerFromKeys(algorithm, privateKey, publicKey);
}
