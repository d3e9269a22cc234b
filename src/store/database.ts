/**
 * Opening the database: PGlite in the data directory (the embedded default) or a PostgreSQL server
 * (`postgres://…`). Both get the same migrations at open and the same queries afterwards.
 */
import { mkdir } from "node:fs/promises";
import { Kysely, sql, type Transaction } from "kysely";
import pg from "pg";
import { KeyfleetError } from "../domain/index.js";
import { lockDirectory } from "./directory-lock.js";
import { checkMigrated, migrateToLatest } from "./migrate.js";
import { PGliteDialect } from "./pglite-dialect.js";
import { KeyfleetPostgresDialect } from "./schema-introspector.js";
import { OwnerOnlyNodeFS } from "./pglite-owner-only-fs.js";
import type { Tables } from "./schema.js";

export type DatabaseKind = "pglite" | "postgres";
export type Tx = Transaction<Tables>;

export interface Database {
  readonly kind: DatabaseKind;
  readonly db: Kysely<Tables>;
  /** The one way to run a transaction. The callback must not await the network (CONVENTIONS §8). */
  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres://… selects PostgreSQL; absent selects PGlite in `dataDir`. */
  readonly url?: string | undefined;
  /** PGlite's directory (its own folder inside the Keyfleet data directory). */
  readonly dataDir?: string | undefined;
  /** PostgreSQL only: a schema to work in (tests isolate runs this way). It must exist. */
  readonly schema?: string | undefined;
  readonly poolSize?: number | undefined;
  /**
   * Run the migrations (the default: `init`, `serve`, tests). Without, the schema must already be
   * current, and an empty database is `not-initialized` and left as it was.
   */
  readonly migrate?: boolean | undefined;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const { kind, db } = options.url ? openPostgres(options) : await openPGlite(options);
  try {
    if (options.migrate ?? true) await migrateToLatest(db as Kysely<unknown>);
    else
      await checkMigrated(
        db as Kysely<unknown>,
        options.url ? `the database at ${redactUrl(options.url)}` : `the database in ${options.dataDir}`,
      );
  } catch (e) {
    await db.destroy();
    throw unreachable(e, options.url);
  }
  return {
    kind,
    db,
    transaction: (work) => db.transaction().execute(work),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

function openPostgres(options: DatabaseOptions): { kind: DatabaseKind; db: Kysely<Tables> } {
  const url = options.url!;
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new KeyfleetError(
      "invalid-configuration",
      `DATABASE_URL must start with postgres://, got "${redactUrl(url)}"`,
    );
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // A server that goes away (restarted, connections terminated) fails the idle clients: the pool
  // drops them and the next query connects again. Without a listener that event would end the
  // process, and with it the OCSP answers and CRLs that must outlive a database outage.
  pool.on("error", () => undefined);
  return { kind: "postgres", db: new Kysely<Tables>({ dialect: new KeyfleetPostgresDialect({ pool }) }) };
}

async function openPGlite(options: DatabaseOptions): Promise<{ kind: DatabaseKind; db: Kysely<Tables> }> {
  if (!options.dataDir) throw new KeyfleetError("invalid-configuration", "PGlite needs a data directory");
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const unlock = await lockDirectory(options.dataDir);
  const { PGlite } = await import("@electric-sql/pglite");
  let pglite;
  try {
    pglite = await PGlite.create({ fs: new OwnerOnlyNodeFS(options.dataDir) }); // files 0600, directories 0700
  } catch (cause) {
    await unlock();
    throw new KeyfleetError("store-unavailable", `cannot open the PGlite database in ${options.dataDir}`, {
      cause,
    });
  }
  return { kind: "pglite", db: new Kysely<Tables>({ dialect: new PGliteDialect(pglite, unlock) }) };
}

/**
 * A server that cannot be reached or will not let us in is `store-unavailable`, said in words: a
 * system error by its code (ECONNREFUSED, ENOTFOUND), a PostgreSQL refusal by its own message
 * (`database "x" does not exist`, `password authentication failed for user "y"`), never a bare SQLSTATE.
 */
function unreachable(error: unknown, url: string | undefined): unknown {
  if (!url || error instanceof KeyfleetError) return error;
  const e = error as { code?: string; message?: string; severity?: string };
  const fromServer = e.severity !== undefined; // pg's DatabaseError carries the server's severity
  const reason = (fromServer ? e.message : (e.code ?? e.message)) ?? String(error);
  return new KeyfleetError("store-unavailable", `cannot reach PostgreSQL at ${redactUrl(url)}: ${reason}`, {
    cause: error,
  });
}

/** A connection URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");
}
