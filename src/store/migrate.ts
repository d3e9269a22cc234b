/** Runs the numbered migrations, in order, at every start; the same set on PGlite and PostgreSQL. */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from "kysely";
import { KeyfleetError } from "../domain/index.js";
import * as m0001 from "./migrations/0001-foundation.js";
import * as m0002 from "./migrations/0002-settings-and-token-use.js";
import * as m0003 from "./migrations/0003-server-identity.js";
import * as m0004 from "./migrations/0004-request-scope.js";
import * as m0005 from "./migrations/0005-audit-log.js";
import * as m0006 from "./migrations/0006-scheduled-tasks.js";
import * as m0007 from "./migrations/0007-device-serial-index.js";
import * as m0008 from "./migrations/0008-device-lifecycle.js";
import * as m0009 from "./migrations/0009-device-attributes.js";
import * as m0010 from "./migrations/0010-bulk-jobs.js";
import * as m0012 from "./migrations/0012-policy-versions.js";
import * as m0013 from "./migrations/0013-manufacturers.js";
import * as m0016 from "./migrations/0016-enrollment.js";
import * as m0017 from "./migrations/0017-key-custody.js";
import * as m0018 from "./migrations/0018-live-identities-and-groups.js";
import * as m0020 from "./migrations/0020-crl-numbers.js";
import * as m0021 from "./migrations/0021-revocation-records.js";
import * as m0022 from "./migrations/0022-ocsp-responders.js";
import * as m0023 from "./migrations/0023-erase-reports.js";
import * as m0024 from "./migrations/0024-key-uris.js";
import * as m0025 from "./migrations/0025-rotation-requests.js";
import * as m0026 from "./migrations/0026-crl-scopes.js";

const migrations: Record<string, Migration> = {
  "0001-foundation": m0001,
  "0002-settings-and-token-use": m0002,
  "0003-server-identity": m0003,
  "0004-request-scope": m0004,
  "0005-audit-log": m0005,
  "0006-scheduled-tasks": m0006,
  "0007-device-serial-index": m0007,
  "0008-device-lifecycle": m0008,
  "0009-device-attributes": m0009,
  "0010-bulk-jobs": m0010,
  "0012-policy-versions": m0012,
  "0013-manufacturers": m0013,
  "0016-enrollment": m0016,
  "0017-key-custody": m0017,
  "0018-live-identities-and-groups": m0018,
  "0020-crl-numbers": m0020,
  "0021-revocation-records": m0021,
  "0022-ocsp-responders": m0022,
  "0023-erase-reports": m0023,
  "0024-key-uris": m0024,
  "0025-rotation-requests": m0025,
  "0026-crl-scopes": m0026,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

// Kysely looks for its bookkeeping tables in every schema unless told which one: name ours, so two
// Keyfleet schemas in one PostgreSQL database never mistake each other's migrations for their own.
async function migrator(db: Kysely<unknown>): Promise<Migrator> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  return new Migrator({ db, provider, migrationTableSchema: rows[0]?.schema ?? "public" });
}

/**
 * For commands that must not change the schema (all but `init` and `serve`): an empty database is
 * `not-initialized` and stays empty; one an older Keyfleet made says how to bring it up to date.
 */
export async function checkMigrated(db: Kysely<unknown>, where: string): Promise<void> {
  const migrations = await (await migrator(db)).getMigrations();
  const pending = migrations.filter((m) => !m.executedAt).map((m) => m.name);
  if (pending.length === migrations.length) {
    throw new KeyfleetError(
      "not-initialized",
      `${where} holds no Keyfleet authority: run \`keyfleet init\` (or \`keyfleet serve\`) on it first`,
    );
  }
  if (pending.length > 0) {
    throw new KeyfleetError(
      "not-initialized",
      `${where} was made by an older Keyfleet (pending migrations: ${pending.join(", ")}): run \`keyfleet serve\` once to bring it up to date`,
    );
  }
}

export async function migrateToLatest(db: Kysely<unknown>): Promise<string[]> {
  const { error, results } = await (await migrator(db)).migrateToLatest();
  if (error) {
    throw new KeyfleetError("store-unavailable", `database migration failed: ${String(error)}`, {
      cause: error,
    });
  }
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
