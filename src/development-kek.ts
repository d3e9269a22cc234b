/**
 * The development key-encryption key: on the embedded default without KEYFLEET_PASSPHRASE, a
 * generated 0600 file in the data directory. A key beside the data it protects only keeps key
 * material out of the database's bytes, which is what a lab needs and no more; `keyfleet kek seal`
 * leaves it for a passphrase.
 */
import { randomBytes } from "node:crypto";
import { chmod, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "./config.js";
import type { Kek, KekSource } from "./crypto/index.js";
import { KeyfleetError } from "./domain/index.js";
import type { Logger } from "./logger.js";

export function kekFile(config: Config): string {
  return join(config.dataDir, "kek");
}

export interface KekChoice {
  /** Ignore KEYFLEET_PASSPHRASE and open the development KEK file (`kek seal` reads keys with it). */
  readonly developmentFile?: boolean;
  /**
   * May this run create the file? Only `init` and `serve`, and only for a store that holds no key
   * yet: a file made beside keys sealed under a passphrase would open nothing and mislead.
   */
  readonly create: boolean;
  /** The KEKs the stored keys are sealed under (empty: none stored yet). */
  readonly sealedUnder: () => Promise<Set<KekSource>>;
}

export async function keyEncryptionKey(
  config: Config,
  logger: Logger,
  choice: KekChoice,
): Promise<Kek | undefined> {
  if (config.passphrase && !choice.developmentFile)
    return { source: "passphrase", passphrase: config.passphrase };
  if (config.databaseUrl) return undefined; // PostgreSQL is production: no passphrase, no key store
  const path = kekFile(config);
  if (await exists(path)) {
    if (choice.create) warn(logger, path);
    return { source: "file", key: await readKekFile(path) };
  }
  if (!choice.create || (await choice.sealedUnder()).size > 0) return undefined; // the store stays locked, and says why
  warn(logger, path);
  await writeFile(path, randomBytes(32), { mode: 0o600, flag: "wx" });
  return { source: "file", key: await readKekFile(path) };
}

/** After `kek seal` re-sealed every key: the file opens nothing any more. */
export async function removeKekFile(config: Config): Promise<void> {
  await rm(kekFile(config), { force: true });
}

export async function hasKekFile(config: Config): Promise<boolean> {
  return exists(kekFile(config));
}

function warn(logger: Logger, path: string): void {
  logger.warn(
    { kekFile: path },
    "development key store: the key-encryption key is a file in the data directory; set KEYFLEET_PASSPHRASE and run `keyfleet kek seal` (or use an HSM) for anything but a lab",
  );
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function readKekFile(path: string): Promise<Uint8Array> {
  const key = await readFile(path);
  if (key.length !== 32)
    throw new KeyfleetError("key-store-locked", `${path} is not a 32-byte key-encryption key`);
  if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600);
  return key;
}
