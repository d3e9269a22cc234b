import { afterAll, beforeAll, expect, test } from "vitest";
import { auditLog, type AuditLog } from "../audit/index.js";
import { KeyStoreRouter, SoftwareKeyStore } from "../crypto/index.js";
import { fixedClock } from "../domain/index.js";
import { databaseSealedKeyVault, keyRepository } from "../store/index.js";
import { forEachDatabase, testDatabase, type TestDatabase } from "../../test/support/databases.js";
import { testPassphrase } from "../../test/support/authority.js";
import { keyCustody, keyGraceSeconds } from "./key-custody.js";

const message = new TextEncoder().encode("a certificate to sign");

forEachDatabase("key custody", (kind) => {
  let db: TestDatabase;
  let audit: AuditLog;
  const clock = fixedClock("2026-01-01T00:00:00Z");
  let keyStore: KeyStoreRouter;
  let custody: ReturnType<typeof keyCustody>;
  beforeAll(async () => {
    db = await testDatabase(kind);
    audit = auditLog({ database: db.database, clock });
    keyStore = new KeyStoreRouter(
      new SoftwareKeyStore(databaseSealedKeyVault(db.database.db), {
        source: "passphrase",
        passphrase: testPassphrase,
      }),
    );
    custody = keyCustody({ database: db.database, keyStore, clock, audit });
  });
  afterAll(() => db?.dispose());

  const stateOf = async (id: string) => (await keyRepository(db.database.db).byId(id))?.state;
  const destroyedLeaves = async () =>
    (await audit.entries(0, 1000)).filter((e) => e.entry.type === "key.destroyed");

  test("a key whose establishing transaction failed stays generated until the grace ends, then the sweeper destroys it with its audit leaf", async () => {
    const key = await custody.generate({
      id: "key-crashed",
      algorithm: "p256",
      label: "root",
      purpose: "ca",
      store: "software",
      extractable: false,
    });
    expect(await stateOf("key-crashed")).toBe("generated"); // recorded before it signs anything
    await (await keyStore.signer(key)).sign(message);
    await expect(
      db.database.transaction(async (tx) => {
        await custody.activate(tx, key);
        throw new Error("the process died before commit");
      }),
    ).rejects.toThrow("died");
    expect(await stateOf("key-crashed")).toBe("generated");

    clock.advance(keyGraceSeconds - 1);
    expect(await custody.sweep()).toBe(0);
    expect(await stateOf("key-crashed")).toBe("generated");
    await (await keyStore.signer(key)).sign(message); // still in its store within the grace
    expect(await destroyedLeaves()).toHaveLength(0);

    clock.advance(1);
    expect(await custody.sweep()).toBe(1);
    const row = await keyRepository(db.database.db).byId("key-crashed");
    expect(row).toMatchObject({ state: "destroyed", destroyed_at: clock.now() });
    await expect(keyStore.signer(key)).rejects.toMatchObject({ code: "key-not-found" });
    const leaves = await destroyedLeaves();
    expect(leaves.map((l) => l.entry)).toEqual([
      expect.objectContaining({
        subject: "key:key-crashed",
        actor: "system",
        details: expect.objectContaining({
          id: "key-crashed",
          purpose: "ca",
          algorithm: "p256",
          keyStore: "software",
          reason: "not-established-within-grace",
          generatedAt: "2026-01-01T00:00:00.000Z",
        }),
      }),
    ]);
    // Once swept, the key can no longer be established, and a second sweep finds nothing.
    await expect(db.database.transaction((tx) => custody.activate(tx, key))).rejects.toMatchObject({
      code: "conflict",
    });
    expect(await custody.sweep()).toBe(0);
    expect(await destroyedLeaves()).toHaveLength(1);
  });

  test("an established key is never swept, however long it lives", async () => {
    const key = await custody.generate({
      id: "key-kept",
      algorithm: "ed25519",
      label: "log",
      purpose: "audit",
      store: "software",
      extractable: false,
    });
    await db.database.transaction((tx) => custody.activate(tx, key));
    const before = (await destroyedLeaves()).length;
    for (let i = 0; i < 3; i++) {
      clock.advance(10 * keyGraceSeconds);
      expect(await custody.sweep()).toBe(0);
    }
    expect(await stateOf("key-kept")).toBe("active");
    await (await keyStore.signer(key)).sign(message);
    expect(await destroyedLeaves()).toHaveLength(before);
  });

  test("a key never established, that the sweeper started to destroy before a crash, is finished by the next sweep with one leaf", async () => {
    const key = await custody.generate({
      id: "key-halfway",
      algorithm: "p256",
      label: "issuing",
      purpose: "ca",
      store: "software",
      extractable: false,
    });
    clock.advance(keyGraceSeconds);
    // The claim committed (the record is `destroying`), then the process died before the store's destroy.
    await db.database.transaction((tx) =>
      keyRepository(tx).claimUnestablished(tx, ["software"], clock.now(), "", 100),
    );
    expect(await stateOf("key-halfway")).toBe("destroying");
    await expect(db.database.transaction((tx) => custody.activate(tx, key))).rejects.toMatchObject({
      code: "conflict",
    });
    const before = (await destroyedLeaves()).length;
    expect(await custody.sweep()).toBe(1);
    expect(await stateOf("key-halfway")).toBe("destroyed");
    await expect(keyStore.signer(key)).rejects.toMatchObject({ code: "key-not-found" });
    expect(await destroyedLeaves()).toHaveLength(before + 1);
  });

  test("discarding a key that lost its race destroys it at once; an established one is left alone", async () => {
    const lost = await custody.generate({
      id: "key-lost",
      algorithm: "p256",
      label: "root",
      purpose: "ca",
      store: "software",
      extractable: false,
    });
    const won = await custody.generate({
      id: "key-won",
      algorithm: "p256",
      label: "root",
      purpose: "ca",
      store: "software",
      extractable: false,
    });
    await db.database.transaction((tx) => custody.activate(tx, won));
    await custody.discard([lost, won]);
    expect(await stateOf("key-lost")).toBe("destroyed");
    expect(await stateOf("key-won")).toBe("active");
    await expect(keyStore.signer(lost)).rejects.toMatchObject({ code: "key-not-found" });
    await (await keyStore.signer(won)).sign(message);
    const last = (await destroyedLeaves()).at(-1)!;
    expect(last.entry).toMatchObject({ subject: "key:key-lost", details: { reason: "not-established" } });
  });
});
