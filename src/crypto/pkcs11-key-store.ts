/**
 * The PKCS#11 key store: keys generated inside a token (an HSM for CA keys, a secure element for a
 * device's own key; SoftHSM2 in tests), never extractable, signing inside the token. A key is named
 * by an RFC 7512 URI (token label, object label, CKA_ID) in its KeyRef, so it is found again after a
 * restart; the PIN is configuration, never part of a ref.
 */
import { randomBytes } from "node:crypto";
import pkcs11js from "pkcs11js";
import { KeyfleetError, quoted } from "../domain/index.js";
import { keyAlgorithm } from "./algorithms.js";
import type { KeyRef, KeySpec, KeyStoreAdapter, Signer } from "./key-store.js";
import { pkcs11KeyType } from "./pkcs11-key-types.js";
import {
  findTokenSlot,
  loadCryptoki,
  mechanismsOf,
  pkcs11Failure,
  type Cryptoki,
  type CryptokiRef,
  type Pkcs11Handle,
} from "./pkcs11-module.js";
import { Pkcs11SessionPool } from "./pkcs11-session-pool.js";
import { pkcs11Signer } from "./pkcs11-signer.js";
import { formatPkcs11Uri, parsePkcs11Uri } from "./pkcs11-uri.js";

export interface Pkcs11Config {
  /** Path of the PKCS#11 library (/usr/lib/softhsm/libsofthsm2.so). */
  readonly module: string;
  /** Label of the token (CK_TOKEN_INFO.label). */
  readonly token: string;
  /** The user PIN; read from a file or a prompt by the caller, never from a KeyRef. */
  readonly pin: string;
  readonly maxSessions?: number;
}

/** What the token says about a private key's protection (PKCS#11 v2.40 §4.9). */
export interface Pkcs11KeyProtection {
  readonly sensitive: boolean;
  readonly extractable: boolean;
  readonly alwaysSensitive: boolean;
  readonly neverExtractable: boolean;
}

/** A mechanism's CKM_ name (pkcs11js has the standard ones), else its number in hex. */
function mechanismName(mechanism: number): string {
  const named = Object.entries(pkcs11js).find(([k, v]) => k.startsWith("CKM_") && v === mechanism);
  return named ? named[0] : `0x${mechanism.toString(16)}`;
}

const truthy = (b: Buffer | undefined): boolean => b !== undefined && b.length > 0 && b[0] !== 0;

export class Pkcs11KeyStore implements KeyStoreAdapter {
  readonly kind = "pkcs11";
  readonly scheme = "pkcs11";

  private constructor(
    private readonly ref: CryptokiRef,
    private readonly slot: Pkcs11Handle,
    private readonly pool: Pkcs11SessionPool,
    readonly token: string,
  ) {}

  /** Loads the module, finds the token and logs in (the PIN is checked here, not at first use). */
  static async open(config: Pkcs11Config): Promise<Pkcs11KeyStore> {
    const ref = loadCryptoki(config.module);
    try {
      const slot = findTokenSlot(ref.cryptoki, config.token);
      const pool = new Pkcs11SessionPool(ref.cryptoki, slot, config.pin, config.maxSessions);
      const store = new Pkcs11KeyStore(ref, slot, pool, config.token);
      await store.check();
      return store;
    } catch (e) {
      ref.release();
      throw pkcs11Failure(e, `opening the PKCS#11 token ${quoted(config.token)}`);
    }
  }

  private get cryptoki(): Cryptoki {
    return this.ref.cryptoki;
  }

  async generate(spec: KeySpec): Promise<KeyRef> {
    const { algorithm, label } = spec;
    const type = pkcs11KeyType(algorithm);
    const mechanisms = mechanismsOf(this.cryptoki, this.slot);
    const missing = [type.generation, type.signing].filter((m) => !mechanisms.has(m));
    if (missing.length > 0) {
      throw new KeyfleetError(
        "unsupported-algorithm",
        `the PKCS#11 token ${quoted(this.token)} cannot generate and sign with ${keyAlgorithm(algorithm).label} keys (no mechanism ${missing.map(mechanismName).join(", ")}): choose another --algorithm`,
      );
    }
    const id = new Uint8Array(randomBytes(16));
    const common = [
      { type: pkcs11js.CKA_KEY_TYPE, value: type.keyType },
      { type: pkcs11js.CKA_TOKEN, value: true }, // kept in the token across sessions and restarts
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_ID, value: Buffer.from(id) },
    ];
    const publicTemplate = [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
      ...common,
      { type: pkcs11js.CKA_PRIVATE, value: false },
      { type: pkcs11js.CKA_VERIFY, value: true },
      { type: pkcs11js.CKA_WRAP, value: false },
      { type: pkcs11js.CKA_ENCRYPT, value: false },
      ...type.publicAttributes,
    ];
    const privateTemplate = [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      ...common,
      { type: pkcs11js.CKA_PRIVATE, value: true },
      // §4.9: SENSITIVE and not EXTRACTABLE, so neither CKA_VALUE nor a wrapped copy ever leaves the token.
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_SIGN, value: true },
      { type: pkcs11js.CKA_DECRYPT, value: false },
      { type: pkcs11js.CKA_UNWRAP, value: false },
      { type: pkcs11js.CKA_DERIVE, value: false },
    ];
    return this.pool.run(`generating a key in the PKCS#11 token ${quoted(this.token)}`, async (session) => {
      const pair = await this.cryptoki.C_GenerateKeyPairAsync(
        session,
        { mechanism: type.generation },
        publicTemplate,
        privateTemplate,
      );
      try {
        this.#requireProtected(session, pair.privateKey);
        const publicKey = type.toSpki(this.#attributes(session, pair.publicKey, type.publicKeyAttributes));
        return {
          uri: formatPkcs11Uri({ token: this.token, object: label, id }),
          algorithm,
          publicKey,
        };
      } catch (e) {
        this.cryptoki.C_DestroyObject(session, pair.privateKey);
        this.cryptoki.C_DestroyObject(session, pair.publicKey);
        throw e;
      }
    });
  }

  async signer(ref: KeyRef): Promise<Signer> {
    const found = await this.pool.run("finding a key in the PKCS#11 token", (session) => {
      const privateKey = this.#find(session, ref, pkcs11js.CKO_PRIVATE_KEY);
      const publicKey = this.#find(session, ref, pkcs11js.CKO_PUBLIC_KEY);
      const type = pkcs11KeyType(ref.algorithm);
      const spki = type.toSpki(this.#attributes(session, publicKey, type.publicKeyAttributes));
      if (!Buffer.from(spki).equals(Buffer.from(ref.publicKey))) {
        throw new KeyfleetError(
          "key-not-found",
          `the key ${quoted(ref.uri, 200)} in the token is not the key referenced`,
        );
      }
      return privateKey;
    });
    return pkcs11Signer(this.cryptoki, this.pool, found, ref.algorithm, ref.publicKey);
  }

  async destroy(ref: KeyRef): Promise<void> {
    await this.pool.run("destroying a key in the PKCS#11 token", (session) => {
      for (const objectClass of [pkcs11js.CKO_PRIVATE_KEY, pkcs11js.CKO_PUBLIC_KEY]) {
        for (const handle of this.#findAll(session, ref, objectClass))
          this.cryptoki.C_DestroyObject(session, handle);
      }
    });
  }

  /** The token's own account of a key's protection: what a test or an operator checks. */
  async protection(ref: KeyRef): Promise<Pkcs11KeyProtection> {
    return this.pool.run("reading a key's attributes", (session) => {
      const values = this.#attributes(session, this.#find(session, ref, pkcs11js.CKO_PRIVATE_KEY), [
        pkcs11js.CKA_SENSITIVE,
        pkcs11js.CKA_EXTRACTABLE,
        pkcs11js.CKA_ALWAYS_SENSITIVE,
        pkcs11js.CKA_NEVER_EXTRACTABLE,
      ]);
      return {
        sensitive: truthy(values.get(pkcs11js.CKA_SENSITIVE)),
        extractable: truthy(values.get(pkcs11js.CKA_EXTRACTABLE)),
        alwaysSensitive: truthy(values.get(pkcs11js.CKA_ALWAYS_SENSITIVE)),
        neverExtractable: truthy(values.get(pkcs11js.CKA_NEVER_EXTRACTABLE)),
      };
    });
  }

  async check(): Promise<void> {
    await this.pool.run(`opening the PKCS#11 token ${quoted(this.token)}`, () => undefined);
  }

  /** Closes the sessions and releases the module (finalized when no other store holds it). */
  close(): void {
    this.pool.close();
    this.ref.release();
  }

  /** A token that ignored the template (some do, silently) must not be trusted with a key: fail closed. */
  #requireProtected(session: Pkcs11Handle, privateKey: Pkcs11Handle): void {
    const values = this.#attributes(session, privateKey, [pkcs11js.CKA_SENSITIVE, pkcs11js.CKA_EXTRACTABLE]);
    if (!truthy(values.get(pkcs11js.CKA_SENSITIVE)) || truthy(values.get(pkcs11js.CKA_EXTRACTABLE))) {
      throw new KeyfleetError(
        "invalid-configuration",
        `the PKCS#11 token ${quoted(this.token)} made a key that is not sensitive and non-extractable; it was destroyed`,
      );
    }
  }

  #attributes(session: Pkcs11Handle, object: Pkcs11Handle, types: readonly number[]): Map<number, Buffer> {
    const values = this.cryptoki.C_GetAttributeValue(
      session,
      object,
      types.map((type) => ({ type })),
    );
    return new Map(values.map((a) => [a.type, a.value]));
  }

  #findAll(session: Pkcs11Handle, ref: KeyRef, objectClass: number): Pkcs11Handle[] {
    const name = parsePkcs11Uri(ref.uri);
    if (name.token !== this.token) {
      throw new KeyfleetError(
        "key-not-found",
        `the key ${quoted(ref.uri, 200)} is in the token ${quoted(name.token)}, not in the configured token ${quoted(this.token)}`,
      );
    }
    if (name.id === undefined && name.object === undefined) {
      throw new KeyfleetError(
        "invalid-configuration",
        `the key reference ${quoted(ref.uri, 200)} names no object or id`,
      );
    }
    const template: pkcs11js.Template = [{ type: pkcs11js.CKA_CLASS, value: objectClass }];
    if (name.id !== undefined) template.push({ type: pkcs11js.CKA_ID, value: Buffer.from(name.id) });
    if (name.object !== undefined) template.push({ type: pkcs11js.CKA_LABEL, value: name.object });
    this.cryptoki.C_FindObjectsInit(session, template);
    try {
      return this.cryptoki.C_FindObjects(session, 2);
    } finally {
      this.cryptoki.C_FindObjectsFinal(session);
    }
  }

  #find(session: Pkcs11Handle, ref: KeyRef, objectClass: number): Pkcs11Handle {
    const found = this.#findAll(session, ref, objectClass);
    const what = objectClass === pkcs11js.CKO_PRIVATE_KEY ? "private" : "public";
    if (found.length === 0) {
      throw new KeyfleetError(
        "key-not-found",
        `no ${what} key ${quoted(ref.uri, 200)} in the PKCS#11 token ${quoted(this.token)}`,
      );
    }
    if (found.length > 1) {
      throw new KeyfleetError(
        "conflict",
        `more than one ${what} key matches ${quoted(ref.uri, 200)}; name it by id`,
      );
    }
    return found[0]!;
  }
}
