/**
 * Keys and signatures: the algorithm registry, the KeyStore and Signer ports, and their adapters
 * (software, sealed under a KEK; PKCS#11 with the HSM issue). Imports nothing of ours but domain errors.
 */
export * from "./algorithms.js";
export { hasTlsKeys, type KeyRef, type KeyStore, type Signer, type TlsKeyStore } from "./key-store.js";
export {
  SoftwareKeyStore,
  checkPassphrase,
  minPassphraseLength,
  softwareSigner,
  type Kek,
  type KekSource,
  type SealedKey,
  type SealedKeyVault,
} from "./software-key-store.js";
