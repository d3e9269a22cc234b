/**
 * The key sweeper as a server runs it (issue 14): CA keys are recorded before they sign, the
 * transaction that records the CAs activates them, and a key a crash left `generated` is destroyed
 * by the `key-sweeper` task once the grace has passed, with a `key.destroyed` leaf.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { keyCustody, keyGraceSeconds } from "../src/ca/index.js";
import { fixedClock } from "../src/domain/index.js";
import { forEachDatabase } from "./support/databases.js";
import { testApp, type TestApp } from "./support/app.js";

forEachDatabase("key sweeper task", (kind) => {
  let t: TestApp;
  const clock = fixedClock("2026-03-01T12:00:00Z");
  beforeAll(async () => {
    t = await testApp(kind, { clock });
    await t.app.authority.init({ algorithm: "p256", actor: "cli:tester" });
  });
  afterAll(() => t?.dispose());

  const keys = () =>
    t.db.database.db.selectFrom("keys").select(["id", "purpose", "state"]).orderBy("id").execute();

  test("destroys a CA key a crash left generated, after the grace, and never the established CA keys", async () => {
    const established = await keys();
    expect(established.map((k) => [k.purpose, k.state])).toEqual([
      ["ca", "active"],
      ["ca", "active"],
    ]);
    // A second `init` that died between generating its root key (and signing with it) and recording its CA.
    const { app } = t;
    const crashed = await keyCustody({
      database: app.database,
      keyStore: app.keyStore,
      clock,
      audit: app.audit,
    }).generate({
      id: "key-ca-crashed",
      algorithm: "p256",
      label: "ca-crashed root",
      purpose: "ca",
      store: "software",
      extractable: false,
    });
    await (await app.keyStore.signer(crashed)).sign(new Uint8Array([1, 2, 3]));

    clock.advance(keyGraceSeconds / 2);
    expect(await app.tasks.runNow("key-sweeper")).toBe(true);
    expect((await keys()).find((k) => k.id === "key-ca-crashed")?.state).toBe("generated");

    clock.advance(keyGraceSeconds / 2);
    expect(await app.tasks.runNow("key-sweeper")).toBe(true);
    const after = await keys();
    expect(after.find((k) => k.id === "key-ca-crashed")?.state).toBe("destroyed");
    expect(after.filter((k) => k.id !== "key-ca-crashed")).toEqual(established);
    await expect(app.keyStore.signer(crashed)).rejects.toMatchObject({ code: "key-not-found" });
    const entries = (await app.audit.entries(0, 100)).map((e) => `${e.entry.type} ${e.entry.subject}`);
    expect(entries.filter((e) => e.startsWith("key.destroyed"))).toEqual([
      "key.destroyed key:key-ca-crashed",
    ]);
    // The authority still signs with the keys it established.
    const chain = await app.authority.chain();
    expect(chain.pem).toContain("BEGIN CERTIFICATE");
    for (const k of established) {
      const row = await t.db.database.db
        .selectFrom("keys")
        .selectAll()
        .where("id", "=", k.id)
        .executeTakeFirstOrThrow();
      await (
        await app.keyStore.signer({ uri: row.uri, algorithm: "p256", publicKey: row.public_key })
      ).sign(new Uint8Array([4]));
    }
  });
});
