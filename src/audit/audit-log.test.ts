import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { systemClock } from "../domain/index.js";
import { forEachDatabase, testDatabase, type TestDatabase } from "../../test/support/databases.js";
import { auditLog, type AuditLog } from "./audit-log.js";
import type { AuditEvent } from "./entry.js";
import { appendLeaves, leafHash, rangeHash, verifyConsistency, verifyInclusion } from "./merkle.js";

const event = (n: number): AuditEvent => ({
  type: "certificate.issued",
  actor: `token:writer-${n % 20}`,
  subject: `certificate:${n.toString(16).padStart(8, "0")}`,
  details: { n, profile: "device" },
});
const utf8 = (text: string) => new TextEncoder().encode(text);

forEachDatabase("audit log storage", (kind) => {
  let db: TestDatabase;
  let log: AuditLog;
  beforeAll(async () => {
    db = await testDatabase(kind);
    log = auditLog({ database: db.database, clock: systemClock });
  });
  afterAll(() => db?.dispose());

  test("20 concurrent writers, 2,000 appends: one sequence without gaps, and the tree verifies", async () => {
    const indexes = (
      await Promise.all(
        Array.from({ length: 20 }, async (_, w) => {
          const mine: number[] = [];
          for (let i = 0; i < 20; i++) {
            const batch = Array.from({ length: 5 }, (_, j) => event(w * 100 + i * 5 + j));
            mine.push(...(await db.database.transaction((tx) => log.append(tx, batch))));
          }
          return mine;
        }),
      )
    ).flat();
    expect(indexes.sort((a, b) => a - b)).toEqual(Array.from({ length: 2000 }, (_, i) => i));

    // Recompute the whole tree from the stored entries alone and compare with the log's root.
    const entries = [];
    for (let from = 0; from < 2000; from += 1000) entries.push(...(await log.entries(from, 1000)));
    expect(entries.map((e) => e.index)).toEqual(indexes);
    const recomputed = appendLeaves(
      0,
      [],
      entries.map((e) => leafHash(utf8(e.text))),
    );
    const { root, size } = await log.root();
    expect(size).toBe(2000);
    // 2,000 = 1024+512+256+128+64+16: six perfect subtrees, and the root folds them.
    expect(recomputed.frontier).toHaveLength(6);
    expect(Buffer.from(rangeHash(recomputed.frontier)).equals(root)).toBe(true);

    for (const index of [0, 1, 999, 1998, 1999]) {
      const p = await log.inclusionProof(index, 2000);
      expect(verifyInclusion(leafHash(utf8(entries[index]!.text)), index, 2000, p.proof, root)).toBe(true);
      expect(Buffer.from(p.leafHash).equals(leafHash(utf8(entries[index]!.text)))).toBe(true);
    }
    const old = await log.root(1234);
    expect(verifyConsistency(1234, 2000, old.root, root, await log.consistencyProof(1234, 2000))).toBe(true);
  });

  test("a rolled-back transaction leaves no leaf and no gap", async () => {
    const before = await log.size();
    await expect(
      db.database.transaction(async (tx) => {
        await log.append(tx, [event(1), event(2)]);
        throw new Error("the change failed");
      }),
    ).rejects.toThrow("the change failed");
    expect(await log.size()).toBe(before);
    const [next] = await db.database.transaction((tx) => log.append(tx, [event(3)]));
    expect(next).toBe(before);
  });

  test("the database refuses to change or remove what was appended", async () => {
    await db.database.transaction((tx) => log.append(tx, [event(4)]));
    for (const statement of [
      "update audit_leaves set entry = '{}' where idx = 0",
      "delete from audit_leaves where idx = 0",
      "update audit_nodes set hash = hash where level = 2 and idx = 0",
      "update audit_leaves set hash = hash where idx = 1",
      "delete from audit_nodes",
      "truncate audit_leaves",
    ]) {
      await expect(sql.raw(statement).execute(db.database.db), statement).rejects.toThrow(/append-only/);
    }
  });

  test("refuses proofs outside the log", async () => {
    const size = await log.size();
    await expect(log.inclusionProof(size, size)).rejects.toMatchObject({ code: "malformed-request" });
    await expect(log.inclusionProof(0, size + 1)).rejects.toMatchObject({
      code: "malformed-request",
      message: expect.stringMatching(/not a size of the audit log/),
    });
    await expect(log.consistencyProof(0, size)).rejects.toMatchObject({ code: "malformed-request" });
    await expect(log.root(-1)).rejects.toMatchObject({ code: "malformed-request" });
  });
});

describe("entries", () => {
  test("are canonical JSON that a third party can hash", async () => {
    const db = await testDatabase("pglite");
    try {
      const log = auditLog({
        database: db.database,
        clock: { now: () => new Date("2026-12-02T01:02:03.456Z") },
      });
      await db.database.transaction((tx) => log.append(tx, [event(7)]));
      const [e] = await log.entries(0, 1);
      expect(e!.text).toBe(
        '{"actor":"token:writer-7","details":{"n":7,"profile":"device"},"subject":"certificate:00000007","time":"2026-12-02T01:02:03.456Z","type":"certificate.issued","v":1}',
      );
    } finally {
      await db.dispose();
    }
  });
});
