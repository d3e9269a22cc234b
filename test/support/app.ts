/** A whole Keyfleet app (as `keyfleet serve` builds it) on a test database, with its logs captured. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { openApp, type App } from "../../src/app.js";
import { loadConfig, type ConfigFlags } from "../../src/config.js";
import type { Clock } from "../../src/domain/index.js";
import { createLogger } from "../../src/logger.js";
import type { DatabaseKind } from "../../src/store/index.js";
import { testDatabase, type TestDatabase } from "./databases.js";
import { testPassphrase, testPublicUrl } from "./authority.js";

export interface TestApp {
  readonly app: App;
  readonly db: TestDatabase;
  readonly dataDir: string;
  readonly logs: () => string;
  /** Rows in the certificates table: what a refused request must leave unchanged. */
  readonly certificateCount: () => Promise<number>;
  readonly dispose: () => Promise<void>;
}

export interface TestAppOptions {
  /** The app's clock (a fixedClock, to move time in a test); the system clock by default. */
  readonly clock?: Clock;
  /** Configuration flags beyond the test defaults (ports, host…). */
  readonly config?: ConfigFlags;
  /** A database made by the test (one it takes away and gives back); by default one of `kind`. */
  readonly db?: TestDatabase;
}

export async function testApp(kind: DatabaseKind, options: TestAppOptions = {}): Promise<TestApp> {
  const db = options.db ?? (await testDatabase(kind));
  const dataDir = await mkdtemp(join(tmpdir(), "keyfleet-app-"));
  const config = loadConfig(
    { dataDir, publicUrl: testPublicUrl, passphrase: testPassphrase, logLevel: "debug", ...options.config },
    {},
  );
  let logs = "";
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs += String(chunk);
      done();
    },
  });
  const app = await openApp(config, createLogger("debug", sink), {
    ...(options.clock ? { clock: options.clock } : {}),
    database: db.database,
    csrWorkers: 2, // as `keyfleet serve` on a 2-core machine: the HTTP tests go through the worker pool
  });
  return {
    app,
    db,
    dataDir,
    logs: () => logs,
    certificateCount: async () =>
      Number(
        (
          await db.database.db
            .selectFrom("certificates")
            .select((eb) => eb.fn.countAll<string>().as("n"))
            .executeTakeFirstOrThrow()
        ).n,
      ),
    dispose: async () => {
      await app.close();
      await db.dispose();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
