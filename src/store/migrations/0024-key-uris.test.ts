import { sql, type Kysely } from "kysely";
import { afterEach, beforeEach, expect, test } from "vitest";
import { initializedAuthority } from "../../../test/support/authority.js";
import { forEachDatabase, testDatabase, type TestDatabase } from "../../../test/support/databases.js";
import { opensslCsr, workdir } from "../../../test/support/openssl.js";
import { down, up } from "./0024-key-uris.js";

forEachDatabase("migration 0024", (kind) => {
  let t: TestDatabase;
  let db: Kysely<unknown>;
  beforeEach(async () => {
    t = await testDatabase(kind);
    db = t.database.db as Kysely<unknown>;
  });
  afterEach(() => t.dispose());

  const rows = async () =>
    (
      await sql<{
        id: string;
        store: string;
        uri: string;
      }>`select id, store, uri from keys order by id`.execute(db)
    ).rows;

  test("an authority an older Keyfleet made (software keys named by their sealed id) keeps signing after it", async () => {
    const authority = await initializedAuthority(t.database);
    const before = await rows();
    expect(before).toHaveLength(2);
    await down(db); // the keys as an older Keyfleet recorded them: `handle` = the sealed key's id
    const old = await sql<{ handle: string }>`select handle from keys order by id`.execute(db);
    expect(old.rows.map((r) => `keyfleet-sealed:${r.handle}`)).toEqual(before.map((r) => r.uri));
    await sql`insert into keys (id, algorithm, store, handle, public_key, purpose)
              values ('key-in-token', 'p256', 'pkcs11', 'pkcs11:token=t;object=o;id=%01', '\\x00'::bytea, 'ca')`.execute(
      db,
    );
    await up(db);
    expect(await rows()).toEqual(
      [...before, { id: "key-in-token", store: "pkcs11", uri: "pkcs11:token=t;object=o;id=%01" }].sort(
        (a, b) => (a.id < b.id ? -1 : 1),
      ),
    );
    const dir = await workdir();
    try {
      const issued = await authority.issue({ csr: await opensslCsr(dir, "p256", "/CN=after-0024") });
      expect(issued.pem).toContain("BEGIN CERTIFICATE");
    } finally {
      await dir.dispose();
    }
  });

  test("a record whose URI is not of its store's scheme is refused", async () => {
    await expect(
      sql`insert into keys (id, algorithm, store, uri, public_key, purpose)
          values ('bad', 'p256', 'software', 'pkcs11:token=t;id=%01', '\\x00'::bytea, 'ca')`.execute(db),
    ).rejects.toThrow(/keys_uri_scheme/);
  });
});
