/**
 * Issue 13, defect 2: servers starting together on one empty PostgreSQL database make one CA
 * hierarchy and one first admin token, and every one of them serves that hierarchy.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, inject, test } from "vitest";
import { openApp, type App } from "../src/app.js";
import { auditLog } from "../src/audit/index.js";
import { initializeHierarchy } from "../src/ca/hierarchy.js";
import { keyCustody } from "../src/ca/index.js";
import { loadConfig } from "../src/config.js";
import { KeyStoreRouter, SoftwareKeyStore } from "../src/crypto/index.js";
import { systemClock } from "../src/domain/index.js";
import { databaseSealedKeyVault, issuerRepository } from "../src/store/index.js";
import { ensureInitialized } from "../src/first-run.js";
import { createLogger } from "../src/logger.js";
import { testPassphrase, testPublicUrl } from "./support/authority.js";
import { keyfleetServe, stop } from "./support/cli.js";
import { adminQuery, testDatabase, type TestDatabase } from "./support/databases.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function counts(db: TestDatabase["database"]) {
  const n = async (table: "issuers" | "api_tokens" | "sealed_keys" | "keys") =>
    Number(
      (
        await db.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<string>().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return { issuers: await n("issuers"), tokens: await n("api_tokens"), sealedKeys: await n("sealed_keys") };
}

describe("first start on one empty PostgreSQL database", () => {
  test("four apps initializing at once make one hierarchy and one admin token; the others' keys are destroyed", async () => {
    const db = await testDatabase("postgres");
    cleanups.push(db.dispose);
    const apps: App[] = [];
    for (let i = 0; i < 4; i++) {
      const dataDir = await mkdtemp(join(tmpdir(), "keyfleet-race-"));
      const database = await db.reopen();
      const config = loadConfig({ dataDir, publicUrl: testPublicUrl, passphrase: testPassphrase }, {});
      const app = await openApp(config, createLogger("silent"), { database });
      apps.push(app);
      cleanups.push(async () => {
        await app.close();
        await database.close();
        await rm(dataDir, { recursive: true, force: true });
      });
    }

    const runs = await Promise.all(
      apps.map((app) => ensureInitialized(app, { algorithm: "p256", publicUrl: testPublicUrl })),
    );

    expect(runs.filter((r) => r.cas !== undefined)).toHaveLength(1);
    expect(runs.filter((r) => r.adminTokenFile !== undefined)).toHaveLength(1);
    // A root and an issuing CA, their two sealed keys: nothing from the processes that lost.
    expect(await counts(db.database)).toEqual({ issuers: 2, tokens: 1, sealedKeys: 2 });
    const chains = await Promise.all(apps.map(async (app) => (await app.authority.chain()).pem));
    expect(new Set(chains).size).toBe(1);
  });

  test("three `keyfleet serve` processes started at once serve one hierarchy and write the same chain", async () => {
    const url = inject("postgresUrl");
    const schema = `kf_race_${randomBytes(5).toString("hex")}`;
    await adminQuery(url, `create schema ${schema}`);
    cleanups.push(() => adminQuery(url, `drop schema ${schema} cascade`));
    const u = new URL(url);
    u.searchParams.set("options", `-c search_path=${schema}`);
    const dirs = await Promise.all([0, 1, 2].map(() => mkdtemp(join(tmpdir(), "keyfleet-race-serve-"))));
    cleanups.push(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

    // Every server that started is stopped after the test, even if another failed to start.
    const started = await Promise.allSettled(
      dirs.map((dir) =>
        keyfleetServe(
          ["--data", dir, "--https-port", "0", "--http-port", "0", "--public-url", testPublicUrl],
          { DATABASE_URL: u.toString(), KEYFLEET_PASSPHRASE: testPassphrase },
        ),
      ),
    );
    for (const s of started) if (s.status === "fulfilled") cleanups.push(() => stop(s.value.child));
    const servers = started.map((s) => {
      if (s.status === "rejected") throw s.reason;
      return s.value;
    });

    const chains = await Promise.all(dirs.map((d) => readFile(join(d, "ca-chain.pem"), "utf8")));
    expect(new Set(chains).size).toBe(1);
    expect(servers.filter((s) => s.banner.includes("first admin token:"))).toHaveLength(1);
    const issuers = await adminQuery(
      url,
      `select kind, count(*)::int as n from ${schema}.issuers group by kind`,
    );
    expect(Object.fromEntries(issuers.rows.map((r: { kind: string; n: number }) => [r.kind, r.n]))).toEqual({
      root: 1,
      intermediate: 1,
    });
  });

  test("a hierarchy whose transaction fails leaves no key behind", async () => {
    const db = await testDatabase("pglite");
    cleanups.push(db.dispose);
    const keyStore = new KeyStoreRouter(
      new SoftwareKeyStore(databaseSealedKeyVault(db.database.db), {
        source: "passphrase",
        passphrase: testPassphrase,
      }),
    );
    const audit = auditLog({ database: db.database, clock: systemClock });
    const deps = {
      database: db.database,
      issuers: issuerRepository(db.database.db),
      keyStore,
      custody: keyCustody({ database: db.database, keyStore, clock: systemClock, audit }),
      clock: systemClock,
      audit,
    };
    await expect(
      initializeHierarchy(deps, { algorithm: "p256", publicUrl: testPublicUrl }, () =>
        Promise.reject(new Error("the settings write failed")),
      ),
    ).rejects.toThrow("the settings write failed");
    expect(await counts(db.database)).toEqual({ issuers: 0, tokens: 0, sealedKeys: 0 });
    // Both keys were recorded before they signed, and their records say they are gone, each with a leaf.
    const keys = await db.database.db.selectFrom("keys").select(["state", "purpose"]).execute();
    expect(keys).toEqual([
      { state: "destroyed", purpose: "ca" },
      { state: "destroyed", purpose: "ca" },
    ]);
    const entries = await audit.entries(0, 10);
    expect(entries.map((e) => [e.entry.type, e.entry.details.reason])).toEqual([
      ["key.destroyed", "not-established"],
      ["key.destroyed", "not-established"],
    ]);
  });
});
