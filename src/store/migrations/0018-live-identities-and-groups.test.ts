import { createHash } from "node:crypto";
import { sql, type Kysely } from "kysely";
import { afterEach, beforeEach, expect, test } from "vitest";
import { forEachDatabase, testDatabase, type TestDatabase } from "../../../test/support/databases.js";
import { testManufacturer } from "../../../test/support/idevid.js";
import { down, up } from "./0018-live-identities-and-groups.js";

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

forEachDatabase("migration 0018", (kind) => {
  let t: TestDatabase;
  let db: Kysely<unknown>;
  beforeEach(async () => {
    t = await testDatabase(kind);
    db = t.database.db as Kysely<unknown>;
    await down(db); // back to the schema before it, as an older Keyfleet left it
  });
  afterEach(() => t.dispose());

  const insert = (id: string, serial: string, tenant: string, idevid: Uint8Array | null, groups: string[]) =>
    sql`insert into devices (id, serial_number, tenant, idevid, groups)
        values (${id}, ${serial}, ${tenant}, ${idevid}, ${JSON.stringify(groups)}::jsonb)`.execute(db);

  test("fills in the IDevID digests and the groups of devices registered before it", async () => {
    const maker = testManufacturer("Acme");
    const idevid = maker.idevid("OLD-1");
    await insert("d1", "OLD-1", "acme", idevid, ["g1", "g2"]);
    await insert("d2", "OLD-2", "globex", null, ["g1"]);
    await up(db);
    const rows = await sql<{ id: string; i: string | null; p: string | null }>`
      select id, encode(idevid_sha256, 'hex') as i, encode(public_key_sha256, 'hex') as p from devices order by id`.execute(
      db,
    );
    const spki = new (await import("node:crypto")).X509Certificate(idevid).publicKey.export({
      type: "spki",
      format: "der",
    });
    expect(rows.rows).toEqual([
      { id: "d1", i: sha256(idevid), p: sha256(spki) },
      { id: "d2", i: null, p: null },
    ]);
    const groups = await sql<{ tenant: string; name: string }>`
      select tenant, name from device_groups order by tenant, name`.execute(db);
    expect(groups.rows).toEqual([
      { tenant: "acme", name: "g1" },
      { tenant: "acme", name: "g2" },
      { tenant: "globex", name: "g1" },
    ]);
  });

  test("refuses to run over devices that share a serial across tenants, naming it, and changes nothing", async () => {
    await insert("d1", "TWICE", "acme", null, []);
    await insert("d2", "TWICE", "globex", null, []);
    await expect(up(db)).rejects.toThrow(/serial TWICE: 2 devices/);
    const columns = await sql<{ column_name: string }>`
      select column_name from information_schema.columns
      where table_schema = current_schema() and table_name = 'devices' and column_name like '%sha256'`.execute(
      db,
    );
    expect(columns.rows).toEqual([]);
  });
});
