/** Runs the numbered migrations, in order, at every start; the same set on PGlite and PostgreSQL. */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from "kysely";
import { KeyfleetError } from "../domain/index.js";
import * as m0001 from "./migrations/0001-foundation.js";
import * as m0003 from "./migrations/0003-server-identity.js";

const migrations: Record<string, Migration> = {
  "0001-foundation": m0001,
  "0003-server-identity": m0003,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

export async function migrateToLatest(db: Kysely<unknown>): Promise<string[]> {
  // Kysely looks for its bookkeeping tables in every schema unless told which one: name ours, so two
  // Keyfleet schemas in one PostgreSQL database never mistake each other's migrations for their own.
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  const migrationTableSchema = rows[0]?.schema ?? "public";
  const { error, results } = await new Migrator({ db, provider, migrationTableSchema }).migrateToLatest();
  if (error) {
    throw new KeyfleetError("store-unavailable", `database migration failed: ${String(error)}`, {
      cause: error,
    });
  }
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
