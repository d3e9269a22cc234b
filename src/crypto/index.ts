/**
 * Keys and signatures: the algorithm registry, the KeyStore and Signer ports, and their adapters
 * (software, sealed under a KEK; PKCS#11, keys generated in the token). Imports nothing of ours but domain errors.
 */
import type { Pkcs11Config, Pkcs11KeyStore } from "./pkcs11-key-store.js";

export * from "./algorithms.js";
export {
  hasTlsKeys,
  type KeyRef,
  type KeySpec,
  type KeyStore,
  type KeyStoreAdapter,
  type KeyStoreKind,
  type Signer,
  type TlsKeyStore,
} from "./key-store.js";
export { KeyStoreRouter, keyStoreKindOf, keyStoreNotConfigured } from "./key-store-router.js";
export type { CustodyKey, KeyCustody, KeyToGenerate } from "./key-custody.js";
export {
  SoftwareKeyStore,
  checkPassphrase,
  sealedScheme,
  minPassphraseLength,
  softwareSigner,
  type Kek,
  type KekSource,
  type SealedKey,
  type SealedKeyVault,
} from "./software-key-store.js";
export type { Pkcs11Config, Pkcs11KeyProtection, Pkcs11KeyStore } from "./pkcs11-key-store.js";
export { formatPkcs11Uri, parsePkcs11Uri, type Pkcs11KeyName } from "./pkcs11-uri.js";
export type { Pkcs11Part } from "./pkcs11-module.js";

/**
 * Opens a PKCS#11 key store (an HSM, a secure element, SoftHSM2). Loaded on first use: pkcs11js is a
 * native addon, and nothing that imports crypto without a token should load it.
 */
export async function openPkcs11KeyStore(config: Pkcs11Config): Promise<Pkcs11KeyStore> {
  const { Pkcs11KeyStore } = await import("./pkcs11-key-store.js");
  return Pkcs11KeyStore.open(config);
}
