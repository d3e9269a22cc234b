import { afterEach, beforeEach, expect, test } from "vitest";
import { forEachDatabase, testDatabase, type TestDatabase } from "../../test/support/databases.js";
import { manufacturerRepository } from "./manufacturer-repository.js";

forEachDatabase("manufacturer repository", (kind) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await testDatabase(kind);
  });
  afterEach(() => t.dispose());

  const certificate = (fingerprint: string) => ({
    manufacturer_id: "m-1",
    fingerprint_sha256: fingerprint,
    certificate: Uint8Array.of(0x30, 0x00),
    subject: "CN=Acme Root",
    not_after: new Date("2030-01-01T00:00:00Z"),
    added_by: "cli:test",
  });

  test("adds a manufacturer and its CA certificates, and refuses a second of either as a conflict", async () => {
    const repo = manufacturerRepository(t.database.db);
    await repo.insert({ id: "m-1", name: "Acme", description: null });
    await expect(repo.insert({ id: "m-2", name: "Acme", description: null })).rejects.toMatchObject({
      code: "conflict",
    });
    await repo.addCertificate(certificate("aa"));
    await expect(repo.addCertificate(certificate("aa"))).rejects.toMatchObject({ code: "conflict" });
    expect((await repo.byName("Acme"))?.id).toBe("m-1");
    expect((await repo.certificates("m-1")).map((c) => c.fingerprint_sha256)).toEqual(["aa"]);
    expect((await repo.list({ limit: 10 })).map((m) => m.name)).toEqual(["Acme"]);
  });
});
