/**
 * Once per test run: build the PGlite template (initdb + migrations, ≈5 s) that every test copies,
 * and check that the PostgreSQL tier is reachable (pretest installs and starts it; we never skip it).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { openDatabase } from "../../src/store/database.js";

declare module "vitest" {
  export interface ProvidedContext {
    pgliteTemplate: string;
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = await mkdtemp(join(tmpdir(), "keyfleet-template-"));
  const template = join(root, "pglite");
  const db = await openDatabase({ dataDir: template });
  await db.close();
  project.provide("pgliteTemplate", template);

  const postgresUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
  const client = new pg.Client({ connectionString: postgresUrl });
  try {
    await client.connect();
    await client.query("select 1");
  } catch (e) {
    throw new Error(`PostgreSQL at ${postgresUrl} is not reachable (${String(e)}); run \`npm run pretest\``);
  } finally {
    await client.end().catch(() => undefined);
  }
  project.provide("postgresUrl", postgresUrl);
  return () => rm(root, { recursive: true, force: true });
}
