/**
 * The device key store on a secure element reached over PKCS#11 (SoftHSM2 in tests): a thin
 * adapter over crypto's PKCS#11 key store, which generates the key in the token (sensitive, not
 * extractable) and signs there. tlsKey() is always undefined: the key cannot be handed to node:tls.
 */
import {
  openPkcs11KeyStore,
  type KeyAlgorithmId,
  type KeyRef,
  type Pkcs11Config,
  type Pkcs11KeyStore,
  type Signer,
} from "../crypto/index.js";
import type { DeviceKeyStore } from "./device-key-store.js";

export class Pkcs11DeviceKeyStore implements DeviceKeyStore {
  readonly kind = "pkcs11";

  private constructor(
    private readonly store: Pkcs11KeyStore,
    private readonly label: string,
  ) {}

  /** `label` names the agent's keys in the token (CKA_LABEL); each also has a random CKA_ID. */
  static async open(config: Pkcs11Config, label: string): Promise<Pkcs11DeviceKeyStore> {
    return new Pkcs11DeviceKeyStore(await openPkcs11KeyStore(config), label);
  }

  generate(algorithm: KeyAlgorithmId): Promise<KeyRef> {
    return this.store.generate(algorithm, this.label);
  }

  signer(ref: KeyRef): Promise<Signer> {
    return this.store.signer(ref);
  }

  destroy(ref: KeyRef): Promise<void> {
    return this.store.destroy(ref);
  }

  async tlsKey(): Promise<undefined> {
    return undefined;
  }

  async close(): Promise<void> {
    this.store.close();
  }
}
