import { sql } from "kysely";
import { afterEach, beforeEach, expect, inject, test } from "vitest";
import {
  adminQuery,
  forEachDatabase,
  testDatabase,
  type TestDatabase,
} from "../../test/support/databases.js";
import { openDatabase } from "./database.js";

forEachDatabase("database", (kind) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await testDatabase(kind);
  });
  afterEach(() => t.dispose());

  test("runs the migrations and answers a ping", async () => {
    await t.database.ping();
    const tables = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = current_schema() order by 1`.execute(
      t.database.db,
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining(["api_tokens", "certificates", "devices", "issuers", "keys", "sealed_keys"]),
    );
  });

  test("a failed transaction leaves nothing behind, even while another commits concurrently", async () => {
    const insert = (id: string) => (tx: Parameters<Parameters<typeof t.database.transaction>[0]>[0]) =>
      tx.insertInto("devices").values({ id, serial_number: id }).execute();
    const failing = t.database.transaction(async (tx) => {
      await insert("doomed")(tx);
      await new Promise((r) => setTimeout(r, 20));
      throw new Error("abort");
    });
    const committing = Promise.all(
      ["a", "b", "c"].map((id) => t.database.transaction(async (tx) => insert(id)(tx))),
    );
    await expect(failing).rejects.toThrow("abort");
    await committing;
    const ids = await t.database.db.selectFrom("devices").select("id").orderBy("id").execute();
    expect(ids.map((r) => r.id)).toEqual(["a", "b", "c"]);
  });

  test("keeps its data across a reopen", async () => {
    await t.database.db.insertInto("devices").values({ id: "d1", serial_number: "SN1" }).execute();
    await t.database.close();
    const again = await t.reopen();
    try {
      const row = await again.db
        .selectFrom("devices")
        .selectAll()
        .where("id", "=", "d1")
        .executeTakeFirstOrThrow();
      expect(row.serial_number).toBe("SN1");
      expect(row.state).toBe("registered");
    } finally {
      await again.close();
    }
  });
});

test("an unreachable PostgreSQL is store-unavailable, with the password left out of the message", async () => {
  await expect(openDatabase({ url: "postgres://keyfleet:s3cret@127.0.0.1:1/none" })).rejects.toMatchObject({
    code: "store-unavailable",
    message: "cannot reach PostgreSQL at postgres://keyfleet:***@127.0.0.1:1/none: ECONNREFUSED",
  });
});

test("opening a database is not disturbed by other schemas being dropped at the same moment", async () => {
  // Kysely's own introspector calls has_schema_privilege() on every schema's name, which fails with
  // `schema "…" does not exist` for a schema dropped meanwhile; ours reads the current schema only.
  const url = inject("postgresUrl");
  const mine = await testDatabase("postgres");
  let churning = true;
  const churn = (async () => {
    for (let i = 0; churning; i++) {
      const other = `kf_churn_${process.pid}_${i}`;
      await adminQuery(url, `create schema ${other}`);
      await adminQuery(url, `create table ${other}.t (x int)`);
      await adminQuery(url, `drop schema ${other} cascade`);
    }
  })();
  try {
    for (let i = 0; i < 25; i++) {
      const again = await mine.reopen(); // runs the migrator, which introspects
      await again.close();
    }
  } finally {
    churning = false;
    await churn;
    await mine.dispose();
  }
});
