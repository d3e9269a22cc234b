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

/**
 * An optional capability of a key store: keys that may be unsealed into this process, for node:tls.
 * node:tls has no external-signer hook (it signs the handshake itself with a private key it holds;
 * no callback hands the signature to a store or an HSM), so a TLS server key must be in process
 * memory while the server runs. A CA key never is: it is reached only through a Signer. A store
 * seals these keys apart from its signing keys, so this capability can open no other key.
 */
export interface TlsKeyStore {
  generateTlsKey(algorithm: KeyAlgorithmId, label: string): Promise<KeyRef>;
  /** The private key as PKCS#8 PEM, for node:tls only; refused for any key not made by generateTlsKey. */
  unsealTlsKey(ref: KeyRef): Promise<string>;
}

export function hasTlsKeys(store: KeyStore): store is KeyStore & TlsKeyStore {
  const s = store as KeyStore & Partial<TlsKeyStore>;
  return typeof s.generateTlsKey === "function" && typeof s.unsealTlsKey === "function";
}
