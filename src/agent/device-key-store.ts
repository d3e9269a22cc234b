/**
 * The device key store port: where the device's own key lives (a file on the device, or a secure
 * element behind PKCS#11). The key is generated there and signs there; the agent holds a KeyRef
 * (kept in its state file) and a Signer, never the key. Only a file key can also serve node:tls
 * client authentication, because node:tls signs the handshake with a key in process memory.
 */
import type { KeyAlgorithmId, KeyRef, Signer } from "../crypto/index.js";
import { fileKeyScheme } from "./file-key-store.js";

export type DeviceKeyStoreKind = "file" | "pkcs11";

export interface DeviceKeyStore {
  readonly kind: DeviceKeyStoreKind;
  generate(algorithm: KeyAlgorithmId): Promise<KeyRef>;
  signer(ref: KeyRef): Promise<Signer>;
  destroy(ref: KeyRef): Promise<void>;
  /**
   * The private key as PKCS#8 PEM for a TLS client certificate, or undefined when the key cannot
   * leave its store (a token: CKA_EXTRACTABLE false). Callers then authenticate another way.
   */
  tlsKey(ref: KeyRef): Promise<string | undefined>;
  close(): Promise<void>;
}

/**
 * A KeyRef as JSON in the state file (bytes as base64). The file keeps the form agents wrote before
 * key references were URIs: the store and its handle (a PKCS#11 URI, or the key file's name).
 */
export interface KeyRefJson {
  readonly store: string;
  readonly handle: string;
  readonly algorithm: KeyAlgorithmId;
  readonly publicKey: string;
}

const filePrefix = `${fileKeyScheme}:`;

export const keyRefToJson = (ref: KeyRef): KeyRefJson => ({
  ...(ref.uri.startsWith(filePrefix)
    ? { store: "file", handle: ref.uri.slice(filePrefix.length) }
    : { store: "pkcs11", handle: ref.uri }),
  algorithm: ref.algorithm,
  publicKey: Buffer.from(ref.publicKey).toString("base64"),
});

export const keyRefFromJson = (json: KeyRefJson): KeyRef => ({
  uri: json.store === "file" ? `${filePrefix}${json.handle}` : json.handle,
  algorithm: json.algorithm,
  publicKey: new Uint8Array(Buffer.from(json.publicKey, "base64")),
});
