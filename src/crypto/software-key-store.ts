/**
 * The software key store: keys generated in this process, sealed at once with AES-256-GCM under the
 * key-encryption key (KEK), and kept only as ciphertext (in the database, through a SealedKeyVault).
 * The KEK comes from a passphrase (scrypt) or, on the embedded default, from a 0600 file.
 *
 * Two kinds of key, sealed under different associated data so neither opens as the other: signing
 * keys (CAs…), which only ever sign through a Signer, and TLS keys, which node:tls must hold in
 * memory (TlsKeyStore). A CA key cannot be unsealed as a TLS key, by mistake or by design.
 */
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  randomBytes,
  randomUUID,
  scrypt,
  sign as nodeSign,
  type KeyObject,
} from "node:crypto";
import { KeyfleetError, quoted } from "../domain/index.js";
import {
  generateKeyPair,
  keyAlgorithm,
  keyAlgorithmFor,
  signatureAlgorithms,
  type KeyAlgorithmId,
} from "./algorithms.js";
import type { KeyRef, KeySpec, KeyStoreAdapter, Signer, TlsKeyStore } from "./key-store.js";

export type KekSource = "passphrase" | "file";
export type Kek =
  | { readonly source: "passphrase"; readonly passphrase: string }
  | { readonly source: "file"; readonly key: Uint8Array };

export interface SealedKey {
  readonly handle: string;
  readonly kekSource: KekSource;
  readonly kdfSalt: Uint8Array | null;
  readonly iv: Uint8Array;
  readonly ciphertext: Uint8Array;
  readonly tag: Uint8Array;
}

/** Where sealed keys are kept; the store module implements it on the database. */
export interface SealedKeyVault {
  put(key: SealedKey): Promise<void>;
  get(handle: string): Promise<SealedKey | undefined>;
  delete(handle: string): Promise<void>;
  /** Re-seals every key sealed under `from`, in one transaction (see the store's implementation). */
  rewrapAll(
    from: KekSource,
    rewrap: (key: SealedKey, algorithm: string) => Promise<SealedKey>,
  ): Promise<{ rewrapped: number; orphaned: number }>;
}

/** A passphrase shorter than this is refused: scrypt slows guessing, it does not make "1234" safe. */
export const minPassphraseLength = 12;

export function checkPassphrase(passphrase: string): void {
  if (passphrase.length < minPassphraseLength) {
    throw new KeyfleetError(
      "invalid-configuration",
      `KEYFLEET_PASSPHRASE must be at least ${minPassphraseLength} characters`,
    );
  }
}

/** What a sealed key may be opened for; part of its associated data. */
type Sealing = "signing" | "tls";

// scrypt N=2^15, r=8, p=1 (≈ 32 MiB, ≈ 100 ms): RFC 7914 §2 interactive-use parameters, paid once per process.
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

/** The URI scheme of the software store's keys: `keyfleet-sealed:<id of the sealed key>`. */
export const sealedScheme = "keyfleet-sealed";

export class SoftwareKeyStore implements KeyStoreAdapter, TlsKeyStore {
  readonly kind = "software";
  readonly scheme = sealedScheme;
  readonly #derived = new Map<string, Promise<Buffer>>();
  #salt: Buffer | undefined;
  #kek: Kek | undefined;

  constructor(
    private readonly vault: SealedKeyVault,
    kek: Kek | undefined,
  ) {
    this.#kek = kek;
  }

  generate(spec: KeySpec): Promise<KeyRef> {
    return this.#generate(spec.algorithm, "signing");
  }

  async signer(ref: KeyRef): Promise<Signer> {
    return softwareSigner(ref, await this.#unseal(ref, "signing"));
  }

  /** A key for this process's TLS server: a service key (so never RSA-2048), sealed as a TLS key. */
  async generateTlsKey(algorithm: KeyAlgorithmId, _label: string): Promise<KeyRef> {
    keyAlgorithmFor(algorithm, "service");
    return this.#generate(algorithm, "tls");
  }

  async unsealTlsKey(ref: KeyRef): Promise<string> {
    const key = await this.#unseal(ref, "tls");
    return key.export({ format: "pem", type: "pkcs8" }).toString();
  }

  async #generate(algorithm: KeyAlgorithmId, sealing: Sealing): Promise<KeyRef> {
    const { privateKey, publicKey } = await generateKeyPair(algorithm);
    const handle = randomUUID();
    const plaintext = privateKey.export({ format: "der", type: "pkcs8" });
    try {
      await this.vault.put(await this.#seal(handle, algorithm, sealing, plaintext));
    } finally {
      plaintext.fill(0);
    }
    return {
      uri: `${sealedScheme}:${handle}`,
      algorithm,
      publicKey: new Uint8Array(publicKey.export({ format: "der", type: "spki" })),
    };
  }

  async destroy(ref: KeyRef): Promise<void> {
    await this.vault.delete(sealedHandle(ref));
  }

  async check(): Promise<void> {
    this.#requireKek();
  }

  /**
   * Leaves the development KEK file: every key sealed under it is re-sealed under `next` in one
   * transaction, and this store uses `next` from then on. The caller removes the file afterwards.
   */
  async sealUnder(
    next: Extract<Kek, { source: "passphrase" }>,
  ): Promise<{ rewrapped: number; orphaned: number }> {
    checkPassphrase(next.passphrase);
    if (this.#requireKek().source !== "file") {
      throw new KeyfleetError(
        "conflict",
        "the keys are already sealed under a passphrase; there is nothing to re-seal",
      );
    }
    const successor = new SoftwareKeyStore(this.vault, next);
    const result = await this.vault.rewrapAll("file", async (sealed, name) => {
      const algorithm = name as KeyAlgorithmId;
      // A key opens under exactly one sealing (its associated data); GCM's tag says which.
      const sealing: Sealing = (await this.#open(sealed, algorithm, "signing").then(
        (p) => (p.fill(0), true),
        () => false,
      ))
        ? "signing"
        : "tls";
      const plaintext = await this.#open(sealed, algorithm, sealing);
      try {
        return await successor.#seal(sealed.handle, algorithm, sealing, plaintext);
      } finally {
        plaintext.fill(0);
      }
    });
    this.#kek = next;
    this.#salt = successor.#salt;
    for (const [id, key] of successor.#derived) this.#derived.set(id, key);
    return result;
  }

  async #seal(
    handle: string,
    algorithm: KeyAlgorithmId,
    sealing: Sealing,
    plaintext: Buffer,
  ): Promise<SealedKey> {
    const kek = this.#requireKek();
    const salt = kek.source === "passphrase" ? (this.#salt ??= randomBytes(16)) : null;
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", await this.#wrappingKey(salt), iv);
    cipher.setAAD(aad(handle, algorithm, sealing));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { handle, kekSource: kek.source, kdfSalt: salt, iv, ciphertext, tag: cipher.getAuthTag() };
  }

  async #unseal(ref: KeyRef, sealing: Sealing): Promise<KeyObject> {
    const handle = sealedHandle(ref);
    const sealed = await this.vault.get(handle);
    if (!sealed) throw new KeyfleetError("key-not-found", `key ${handle} is not in the software key store`);
    const plaintext = await this.#open(sealed, ref.algorithm, sealing);
    try {
      return createPrivateKey({ key: plaintext, format: "der", type: "pkcs8" });
    } finally {
      plaintext.fill(0);
    }
  }

  /** The PKCS#8 bytes of a sealed key; the caller zeroes them when done. */
  async #open(sealed: SealedKey, algorithm: KeyAlgorithmId, sealing: Sealing): Promise<Buffer> {
    const kek = this.#requireKek();
    if (sealed.kekSource !== kek.source) {
      throw new KeyfleetError(
        "key-store-locked",
        sealed.kekSource === "passphrase"
          ? `key ${sealed.handle} is sealed under a passphrase: set KEYFLEET_PASSPHRASE`
          : `key ${sealed.handle} is sealed under the development KEK file in the data directory: unset KEYFLEET_PASSPHRASE to use it, or run \`keyfleet kek seal\` with KEYFLEET_PASSPHRASE set to re-seal every key under the passphrase`,
      );
    }
    const decipher = createDecipheriv("aes-256-gcm", await this.#wrappingKey(sealed.kdfSalt), sealed.iv);
    decipher.setAAD(aad(sealed.handle, algorithm, sealing));
    decipher.setAuthTag(sealed.tag);
    try {
      return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
    } catch {
      throw new KeyfleetError(
        "key-store-locked",
        sealing === "tls"
          ? `key ${sealed.handle} does not open as a TLS key: it is not one (signing keys never leave the key store), or the key-encryption key is wrong`
          : `the key-encryption key does not open key ${sealed.handle}: wrong passphrase (KEYFLEET_PASSPHRASE) or KEK file`,
      );
    }
  }

  #requireKek(): Kek {
    if (!this.#kek) {
      throw new KeyfleetError(
        "key-store-locked",
        "the software key store has no key-encryption key: set KEYFLEET_PASSPHRASE",
      );
    }
    return this.#kek;
  }

  #wrappingKey(salt: Uint8Array | null): Promise<Buffer> {
    const kek = this.#requireKek();
    if (kek.source === "file") return Promise.resolve(Buffer.from(kek.key));
    if (!salt) throw new KeyfleetError("key-store-locked", "a passphrase-sealed key has no salt");
    const id = Buffer.from(salt).toString("hex");
    let derived = this.#derived.get(id);
    if (!derived) {
      derived = new Promise((resolve, reject) =>
        scrypt(kek.passphrase, salt, 32, SCRYPT, (err, key) => (err ? reject(err) : resolve(key))),
      );
      this.#derived.set(id, derived);
    }
    return derived;
  }
}

/** The sealed key's id in a `keyfleet-sealed:` URI (what the vault keys it by and its seal authenticates). */
function sealedHandle(ref: KeyRef): string {
  const prefix = `${sealedScheme}:`;
  const handle = ref.uri.startsWith(prefix) ? ref.uri.slice(prefix.length) : "";
  if (!/^[\x21-\x7e]{1,200}$/.test(handle)) {
    throw new KeyfleetError(
      "key-not-found",
      `${quoted(ref.uri, 200)} is not a key of the software key store`,
    );
  }
  return handle;
}

function aad(handle: string, algorithm: KeyAlgorithmId, sealing: Sealing): Buffer {
  // The signing form is the original one (keys sealed before TLS keys existed open unchanged).
  return Buffer.from(
    sealing === "signing"
      ? `keyfleet-sealed-key/v1 ${handle} ${algorithm}`
      : `keyfleet-sealed-tls-key/v1 ${handle} ${algorithm}`,
  );
}

/** A Signer over a KeyObject made once (FIELD-NOTES: 12× faster than re-reading a key per call). */
export function softwareSigner(ref: KeyRef, privateKey: KeyObject): Signer {
  const signatureAlgorithm = signatureAlgorithms[keyAlgorithm(ref.algorithm).signature];
  const hash = signatureAlgorithm.hash;
  return {
    keyAlgorithm: ref.algorithm,
    signatureAlgorithm,
    publicKey: ref.publicKey,
    sign: async (data) => new Uint8Array(nodeSign(hash, data, privateKey)),
  };
}
