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
