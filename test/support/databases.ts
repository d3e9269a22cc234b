/**
 * Real databases for tests: a copy of the run's PGlite template, or a fresh schema on the local
 * PostgreSQL. `forEachDatabase` runs a suite on both (CONVENTIONS §11).
 */
import { randomBytes } from "node:crypto";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { describe, inject } from "vitest";
import { openDatabase, type Database, type DatabaseKind } from "../../src/store/database.js";

export const databaseKinds: readonly DatabaseKind[] = ["pglite", "postgres"];

export interface TestDatabase {
  readonly database: Database;
  /** Options that open the same database again (a restart). */
  readonly reopen: () => Promise<Database>;
  /** Where PGlite keeps its files (a folder to scan), or undefined on PostgreSQL. */
  readonly dataDir: string | undefined;
  readonly dispose: () => Promise<void>;
}

export async function testDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  return kind === "pglite" ? pgliteCopy() : postgresSchema();
}

async function pgliteCopy(): Promise<TestDatabase> {
  const dir = await mkdtemp(join(tmpdir(), "keyfleet-db-"));
  const dataDir = join(dir, "pglite");
  await cp(inject("pgliteTemplate"), dataDir, { recursive: true });
  const open = () => openDatabase({ dataDir });
  const database = await open();
  return {
    database,
    reopen: open,
    dataDir,
    dispose: async () => {
      await database.close().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function postgresSchema(): Promise<TestDatabase> {
  const url = inject("postgresUrl");
  const schema = `kf_test_${randomBytes(6).toString("hex")}`;
  await adminQuery(url, `create schema ${schema}`);
  const open = () => openDatabase({ url, schema, poolSize: 4 });
  const database = await open();
  return {
    database,
    reopen: open,
    dataDir: undefined,
    dispose: async () => {
      await database.close().catch(() => undefined);
      await adminQuery(url, `drop schema ${schema} cascade`);
    },
  };
}

/**
 * A PostgreSQL database of its own (not a schema), so a test can take it away under a running app
 * and give it back: `refuse()` stops new connections and ends the open ones, `allow()` lets them in.
 */
export async function postgresScratchDatabase(): Promise<
  TestDatabase & { readonly refuse: () => Promise<void>; readonly allow: () => Promise<void> }
> {
  const admin = inject("postgresUrl");
  const name = `kf_scratch_${randomBytes(6).toString("hex")}`;
  await adminQuery(admin, `create database ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const open = () => openDatabase({ url: url.toString(), poolSize: 4 });
  const database = await open();
  const terminate = () =>
    adminQuery(admin, "select pg_terminate_backend(pid) from pg_stat_activity where datname = $1", [name]);
  return {
    database,
    reopen: open,
    dataDir: undefined,
    refuse: async () => {
      await adminQuery(admin, `alter database ${name} with allow_connections false`);
      await terminate();
    },
    allow: async () => {
      await adminQuery(admin, `alter database ${name} with allow_connections true`);
    },
    dispose: async () => {
      await database.close().catch(() => undefined);
      await adminQuery(admin, `alter database ${name} with allow_connections true`);
      await terminate();
      await adminQuery(admin, `drop database ${name}`);
    },
  };
}

export async function adminQuery(url: string, text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

/** `describe` once per database kind, named so a failure says which. */
export function forEachDatabase(name: string, body: (kind: DatabaseKind) => void): void {
  for (const kind of databaseKinds) describe(`${name} [${kind}]`, () => body(kind));
}
