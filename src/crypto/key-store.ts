/**
 * The ports every key store implements. A private key never leaves its store: callers get a
 * `Signer`, which signs and tells its public key, and nothing else.
 */
import type { KeyAlgorithmId, SignatureAlgorithm } from "./algorithms.js";

export interface Signer {
  readonly keyAlgorithm: KeyAlgorithmId;
  readonly signatureAlgorithm: SignatureAlgorithm;
  /** SubjectPublicKeyInfo, DER. */
  readonly publicKey: Uint8Array;
  /** Signs `data` (the store hashes it); the signature is in its X.509 encoding (ECDSA: DER Ecdsa-Sig-Value). */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** What a key store hands back for a new key: enough to find it again, and its public half. */
export interface KeyRef {
  /** Which adapter holds it ("software", "pkcs11"). */
  readonly store: string;
  /** The adapter's own reference (an opaque id); never key material. */
  readonly handle: string;
  readonly algorithm: KeyAlgorithmId;
  readonly publicKey: Uint8Array;
}

export interface KeyStore {
  readonly kind: string;
  generate(algorithm: KeyAlgorithmId, label: string): Promise<KeyRef>;
  signer(ref: KeyRef): Promise<Signer>;
  destroy(ref: KeyRef): Promise<void>;
  /** Proves the store is usable now (readiness): unlocked and reachable. */
  check(): Promise<void>;
}
