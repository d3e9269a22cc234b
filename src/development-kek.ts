/**
 * The development key-encryption key: on the embedded default without KEYFLEET_PASSPHRASE, a
 * generated 0600 file in the data directory. A key beside the data it protects only keeps key
 * material out of the database's bytes, which is what a lab needs and no more; `keyfleet kek seal`
 * leaves it for a passphrase.
 */
import { randomBytes } from "node:crypto";
import { lstat, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "./config.js";
import type { Kek, KekSource } from "./crypto/index.js";
import { createSecretFile, readSecretFile } from "./data-directory.js";
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
    return { source: "file", key: await readKekFile(path, logger) };
  }
  if (!choice.create || (await choice.sealedUnder()).size > 0) return undefined; // the store stays locked, and says why
  warn(logger, path);
  // A new 0600 file; a link planted at the name is refused, so no key is sealed under bytes from elsewhere.
  await createSecretFile(path, "the development key-encryption key", async () => randomBytes(32));
  return { source: "file", key: await readKekFile(path, logger) };
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

/** Anything at the name counts, a dangling link too: it is refused when read, never replaced. */
async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

/** The key, read from a regular file of its own (never through a link); a loose mode is tightened, and said. */
async function readKekFile(path: string, logger: Logger): Promise<Uint8Array> {
  const { bytes, loose } = await readSecretFile(path, "the development key-encryption key");
  if (bytes.length !== 32)
    throw new KeyfleetError("key-store-locked", `${path} is not a 32-byte key-encryption key`);
  if (loose) {
    logger.warn(
      { kekFile: path, mode: loose },
      "the development KEK file was open to others; it is now 0600 (if others could reach the data directory, treat the keys sealed under it as exposed)",
    );
  }
  return bytes;
}
