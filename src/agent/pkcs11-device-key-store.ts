/**
 * The device key store on a secure element reached over PKCS#11 (SoftHSM2 in tests): a thin
 * adapter over crypto's PKCS#11 key store, which generates the key in the token (sensitive, not
 * extractable) and signs there. tlsKey() is always undefined: the key cannot be handed to node:tls.
 */
import { KeyfleetError, quoted } from "../domain/index.js";
import {
  formatPkcs11Uri,
  openPkcs11KeyStore,
  parsePkcs11Uri,
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
    return this.store.generate({
      algorithm,
      label: this.label,
      purpose: "device",
      store: "pkcs11",
      extractable: false,
    });
  }

  /**
   * A key the token held before the agent (the IDevID's, put there at manufacture), named by a
   * PKCS#11 URI (RFC 7512) in this token, whose public key is `publicKey` (its certificate's);
   * signer() then checks that the token's key is that very key.
   */
  existing(uri: string, algorithm: KeyAlgorithmId, publicKey: Uint8Array): KeyRef {
    const name = parsePkcs11Uri(uri);
    if (name.token !== this.store.token) {
      throw new KeyfleetError(
        "invalid-configuration",
        `${quoted(uri, 200)} names the token ${quoted(name.token)}, but the agent's token is ${quoted(this.store.token)}`,
      );
    }
    if (name.object === undefined && name.id === undefined) {
      throw new KeyfleetError("invalid-configuration", `${quoted(uri, 200)} names no key (object= or id=)`);
    }
    return {
      uri: formatPkcs11Uri(name),
      algorithm,
      publicKey,
    };
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
