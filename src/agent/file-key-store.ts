/**
 * The software device key store: a key generated on the device by node:crypto and kept as PKCS#8
 * DER in a file of the agent's state directory, created 0600 (open with O_EXCL and the mode, so the
 * key is never readable by others, not even between creation and a chmod). For devices without a
 * secure element; the file is as safe as the device's filesystem.
 */
import { createPrivateKey, randomBytes, randomUUID, type KeyObject } from "node:crypto";
import { mkdir, open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import {
  generateKeyPair,
  softwareSigner,
  type KeyAlgorithmId,
  type KeyRef,
  type Signer,
} from "../crypto/index.js";
import { KeyfleetError, quoted } from "../domain/index.js";
import type { DeviceKeyStore } from "./device-key-store.js";

/** The file key store's key URIs: `keyfleet-file:<uuid>.p8`, a file name in its key directory. */
export const fileKeyScheme = "keyfleet-file";
const URI = /^keyfleet-file:([0-9a-f-]{36}\.p8)$/;

export class FileKeyStore implements DeviceKeyStore {
  readonly kind = "file";

  constructor(private readonly dir: string) {}

  async generate(algorithm: KeyAlgorithmId): Promise<KeyRef> {
    const { privateKey, publicKey } = await generateKeyPair(algorithm);
    const handle = `${randomUUID()}.p8`;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const der = privateKey.export({ format: "der", type: "pkcs8" });
    const file = await open(join(this.dir, handle), "wx", 0o600);
    try {
      await file.writeFile(der);
      await file.sync();
    } finally {
      der.fill(0);
      await file.close();
    }
    return {
      uri: `${fileKeyScheme}:${handle}`,
      algorithm,
      publicKey: new Uint8Array(publicKey.export({ format: "der", type: "spki" })),
    };
  }

  async signer(ref: KeyRef): Promise<Signer> {
    return softwareSigner(ref, await this.#load(ref));
  }

  async tlsKey(ref: KeyRef): Promise<string> {
    return (await this.#load(ref)).export({ format: "pem", type: "pkcs8" }).toString();
  }

  /**
   * Crypto-erase: the key file is overwritten with random bytes of its length and synced before it
   * is unlinked, so the key is not left in the file's blocks for whoever reads the disk next (as far
   * as the filesystem writes in place; a flash translation layer may keep old blocks).
   */
  async destroy(ref: KeyRef): Promise<void> {
    const path = this.#path(ref);
    let file;
    try {
      file = await open(path, "r+");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      throw e;
    }
    try {
      const { size } = await file.stat();
      await file.write(randomBytes(size), 0, size, 0);
      await file.sync();
    } finally {
      await file.close();
    }
    await rm(path);
    const dir = await open(this.dir, "r");
    try {
      await dir.sync(); // the unlink itself, durable
    } finally {
      await dir.close();
    }
  }

  async close(): Promise<void> {}

  #path(ref: KeyRef): string {
    // The URI comes from the state file: never let it name a path outside the key directory.
    const name = URI.exec(ref.uri)?.[1];
    if (name === undefined) {
      throw new KeyfleetError("key-not-found", `${quoted(ref.uri, 200)} is not a key of the file key store`);
    }
    return join(this.dir, name);
  }

  async #load(ref: KeyRef): Promise<KeyObject> {
    let der: Buffer;
    try {
      der = await readFile(this.#path(ref));
    } catch (cause) {
      throw new KeyfleetError(
        "key-not-found",
        `the device key ${quoted(ref.uri, 200)} is not in ${quoted(this.dir, 200)}`,
        { cause },
      );
    }
    try {
      return createPrivateKey({ key: der, format: "der", type: "pkcs8" });
    } catch (cause) {
      throw new KeyfleetError(
        "key-not-found",
        `the device key file ${quoted(ref.uri, 200)} does not hold a PKCS#8 key`,
        { cause },
      );
    } finally {
      der.fill(0);
    }
  }
}
