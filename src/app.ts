/**
 * The composition root: builds the adapters from configuration and hands them down as plain
 * parameters (CONVENTIONS §3). The CLI and the server both start here.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createAuthority, inlineCsrReader, workerCsrReader, type Authority } from "./ca/index.js";
import type { Config } from "./config.js";
import { SoftwareKeyStore, type Kek, type KeyStore } from "./crypto/index.js";
import { KeyfleetError, systemClock, type Clock } from "./domain/index.js";
import type { Logger } from "./logger.js";
import { tokenService, type TokenService } from "./policy/index.js";
import { deviceService, type DeviceService } from "./registry/index.js";
import {
  databaseSealedKeyVault,
  deviceRepository,
  openDatabase,
  tokenRepository,
  type Database,
} from "./store/index.js";

export interface App {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly database: Database;
  readonly keyStore: KeyStore;
  readonly authority: Authority;
  readonly tokens: TokenService;
  readonly devices: DeviceService;
  close(): Promise<void>;
}

export interface AppOptions {
  readonly clock?: Clock;
  /** An open database to use instead of the configured one (tests); the app then does not close it. */
  readonly database?: Database;
  /**
   * Worker threads that parse and verify CSRs (`keyfleet serve`: one per core). 0, the default,
   * parses on the event loop, which suits a command that issues one certificate and exits.
   */
  readonly csrWorkers?: number;
  /**
   * May this run create the data directory and the development KEK file (`init`, `serve`)? Other
   * commands work on what exists: a mistyped --data is an error, not a new empty authority.
   */
  readonly create?: boolean;
}

export async function openApp(config: Config, logger: Logger, options: AppOptions = {}): Promise<App> {
  const clock = options.clock ?? systemClock;
  const pgliteDir = join(config.dataDir, "pglite");
  if (options.create) await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  else if (!config.databaseUrl && !options.database && !(await exists(pgliteDir))) {
    throw new KeyfleetError(
      "not-initialized",
      `no Keyfleet data in ${config.dataDir}: run \`keyfleet init\` there first, or point --data (KEYFLEET_DATA) at an existing data directory`,
    );
  }
  const database = options.database ?? (await openDatabase({ url: config.databaseUrl, dataDir: pgliteDir }));
  const csrReader = options.csrWorkers ? workerCsrReader(options.csrWorkers) : inlineCsrReader;
  const close = async () => {
    await csrReader.close();
    if (!options.database) await database.close();
  };
  try {
    const kek = await keyEncryptionKey(config, logger, options.create ?? false);
    const keyStore = new SoftwareKeyStore(databaseSealedKeyVault(database.db), kek);
    const authority = createAuthority({
      database,
      keyStore,
      clock,
      publicUrl: config.publicUrl,
      csrReader,
    });
    return {
      config,
      logger,
      clock,
      database,
      keyStore,
      authority,
      tokens: tokenService(tokenRepository(database.db), clock),
      devices: deviceService(deviceRepository(database.db)),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * The KEK: from KEYFLEET_PASSPHRASE (scrypt), or — on the embedded default only — from a generated
 * 0600 file in the data directory, with a loud warning: a key beside the data it protects only keeps
 * key material out of the database's bytes, which is what a development store needs and no more.
 */
async function keyEncryptionKey(config: Config, logger: Logger, create: boolean): Promise<Kek | undefined> {
  if (config.passphrase) return { source: "passphrase", passphrase: config.passphrase };
  if (config.databaseUrl) return undefined; // PostgreSQL is production: no passphrase, no key store
  const path = join(config.dataDir, "kek");
  if (!create) {
    // Commands use the file `init`/`serve` made (and said so); without it the key store stays locked.
    return (await exists(path)) ? { source: "file", key: await readKekFile(path) } : undefined;
  }
  logger.warn(
    { kekFile: path },
    "development key store: the key-encryption key is a file in the data directory; set KEYFLEET_PASSPHRASE (or use an HSM) for anything but a lab",
  );
  if (!(await exists(path))) await writeFile(path, randomBytes(32), { mode: 0o600, flag: "wx" });
  return { source: "file", key: await readKekFile(path) };
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
