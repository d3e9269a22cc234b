/**
 * The ports every key store implements. A private key never leaves its store: callers get a
 * `Signer`, which signs and tells its public key, and nothing else. A key is named by a URI
 * (DESIGN §6): `pkcs11:token=…;object=…;id=…` (RFC 7512) for a key in a token, `keyfleet-sealed:<id>`
 * for one in the software key store; the KeyStoreRouter finds a key's store by the URI's scheme.
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

/** The key stores Keyfleet has adapters for; a key record names its store by one of these. */
export type KeyStoreKind = "software" | "pkcs11";

/** What to generate, and where. */
export interface KeySpec {
  readonly algorithm: KeyAlgorithmId;
  /** The store's label for the key (a token object's CKA_LABEL). */
  readonly label: string;
  /** What the key is for: `ca`, `audit`, `ocsp-responder`, `device`. */
  readonly purpose: string;
  /** Which configured store generates and keeps it. */
  readonly store: KeyStoreKind;
  /** A signing key never leaves its store: not as plaintext, not wrapped (PKCS#11 CKA_EXTRACTABLE false). */
  readonly extractable: false;
}

/** What a key store hands back for a new key: its URI, to find it again, and its public half. */
export interface KeyRef {
  /** The key's reference: never key material, never a PIN. */
  readonly uri: string;
  readonly algorithm: KeyAlgorithmId;
  readonly publicKey: Uint8Array;
}

export interface KeyStore {
  generate(spec: KeySpec): Promise<KeyRef>;
  signer(ref: KeyRef): Promise<Signer>;
  destroy(ref: KeyRef): Promise<void>;
  /** Proves the store is usable now (readiness): unlocked and reachable. */
  check(): Promise<void>;
}

/** One store behind the port, with the URI scheme of the keys it holds. */
export interface KeyStoreAdapter extends KeyStore {
  readonly kind: KeyStoreKind;
  /** The scheme of its keys' URIs, without the colon: `keyfleet-sealed`, `pkcs11`. */
  readonly scheme: string;
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

/** The scheme of a key URI (`pkcs11`), or undefined when it has none. */
export function schemeOf(uri: string): string | undefined {
  return /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1]?.toLowerCase();
}
