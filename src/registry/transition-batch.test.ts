/**
 * Certificates that share a group-commit batch write their lifecycle transitions together
 * (transition-batch.ts); one the lifecycle refuses there fails alone, and every certificate that
 * committed has its history row, audit leaf and outbox event, one for one.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from "vitest";
import { forEachDatabase, testDatabase, type TestDatabase } from "../../test/support/databases.js";
import { initializedAuthority } from "../../test/support/authority.js";
import { opensslCsr, workdir, type Workdir } from "../../test/support/openssl.js";
import { lifecycleCounts, testRegistry } from "../../test/support/registry.js";
import type { Authority } from "../ca/index.js";
import { fixedClock, type EvidenceRef } from "../domain/index.js";
import { deviceCaller, systemCaller } from "../policy/index.js";
import type { Tx } from "../store/index.js";
import type { Registry } from "./registry.js";

let dir: Workdir;
let csr: string;
beforeAll(async () => {
  dir = await workdir();
  csr = await opensslCsr(dir, "p256", "/CN=sensor");
});
afterAll(() => dir.dispose());

const proof: EvidenceRef[] = [{ kind: "proof-of-possession", ref: "sig:1" }];
const evidence: EvidenceRef[] = [{ kind: "ticket", ref: "bootstrap-token:t-1" }];

/** A promise that settles once `n` callers wait on it: what lets their work go on together. */
function barrier(n: number): () => Promise<void> {
  let open!: () => void;
  const all = new Promise<void>((r) => (open = r));
  let waiting = 0;
  return () => {
    if (++waiting === n) open();
    return all;
  };
}

forEachDatabase("transitions of one issuance batch", (kind) => {
  let t: TestDatabase;
  let registry: Registry;
  let authority: Authority;
  const clock = fixedClock("2026-06-01T00:00:00Z");

  beforeEach(async () => {
    t = await testDatabase(kind);
    authority = await initializedAuthority(t.database);
    registry = testRegistry(t.database, clock, authority); // one authority: one group commit
  });
  afterEach(() => t.dispose());

  const deviceLeaves = async () =>
    (await t.database.db.selectFrom("audit_leaves").select(["entry", "subject"]).orderBy("idx").execute())
      .map((r) => ({ subject: r.subject, entry: JSON.parse(r.entry) as { type: string } }))
      .filter((l) => l.entry.type === "device.transitioned");

  test("a rotation refused inside a shared batch fails alone; the others commit with history, leaf and event each", async () => {
    const [a, b, c] = await Promise.all(
      ["SN-A", "SN-B", "SN-C"].map(
        async (serialNumber) => (await registry.register({ serialNumber }, systemCaller)).id,
      ),
    );
    // B active, with the certificate both of its re-enrollments renew.
    const current = (await registry.issue({ csr, deviceId: b! }, systemCaller)).serial;
    await registry.apply(b!, { kind: "confirm" }, systemCaller, { evidence: proof });
    const before = await lifecycleCounts(t.database);
    const leavesBefore = (await deviceLeaves()).length;

    // Each request is decided (B's two both see it active) and checked; then all four are signed
    // in one turn of the event loop, so group commit cuts them into one batch.
    const checked = barrier(4);
    const spent: Tx[] = [];
    const enroll = (deviceId: string, renewing?: string) =>
      registry.enroll({ deviceId, csr }, deviceCaller(deviceId), {
        evidence,
        renewing,
        inspect: () => checked(),
        spend: async (tx) => {
          spent.push(tx);
        },
      });
    const results = await Promise.allSettled([
      enroll(a!),
      enroll(b!, current),
      enroll(b!, current),
      enroll(c!),
    ]);

    // First written together (one transaction saw all four), then each alone: four, and the refused one.
    expect(new Set(spent.slice(0, 4)).size).toBe(1);
    expect(spent).toHaveLength(8);
    const status = results.map((r) => r.status);
    expect([status[0], status[3]]).toEqual(["fulfilled", "fulfilled"]);
    expect([status[1], status[2]].sort()).toEqual(["fulfilled", "rejected"]);
    const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ code: "invalid-transition" });

    expect((await registry.get(a!, systemCaller)).state).toBe("provisioned");
    expect((await registry.get(b!, systemCaller)).state).toBe("rotating");
    expect((await registry.get(c!, systemCaller)).state).toBe("provisioned");
    // A's issue, B's one rotate, C's issue: three transitions, each with its history row, leaf and outbox event.
    const after = await lifecycleCounts(t.database);
    expect(after.lifecycleEvents - before.lifecycleEvents).toBe(3);
    expect(after.outbox - before.outbox).toBe(3);
    const leaves = (await deviceLeaves()).slice(leavesBefore);
    expect(leaves.map((l) => l.subject).sort()).toEqual([`device:${a}`, `device:${b}`, `device:${c}`].sort());
    const history = await registry.history(b!, systemCaller);
    expect(history.items.map((e) => e.command)).toEqual(["issue", "confirm", "rotate"]);
    expect((await authority.certificates({ deviceId: b! })).items).toHaveLength(2); // its first, one successor
  });

  test("two certificates of one device in one batch chain: registered → provisioned → provisioned, the first superseded", async () => {
    const { id } = await registry.register({ serialNumber: "SN-TWICE" }, systemCaller);
    const checked = barrier(2);
    const spent: Tx[] = [];
    const enroll = () =>
      registry.enroll({ deviceId: id, csr }, deviceCaller(id), {
        evidence,
        inspect: () => checked(),
        spend: async (tx) => {
          spent.push(tx);
        },
      });
    const [first, second] = await Promise.all([enroll(), enroll()]);
    expect(spent).toHaveLength(2);
    expect(spent[0]).toBe(spent[1]); // one batch
    const history = await registry.history(id, systemCaller);
    expect(history.items.map((e) => [e.command, e.from, e.to, e.version])).toEqual([
      ["issue", "registered", "provisioned", 2],
      ["issue", "provisioned", "provisioned", 3],
    ]);
    expect(history.items[1]!.credentials).toEqual([
      { serial: first.serial, status: "revoked", reason: "superseded" },
    ]);
    expect((await authority.certificate(second.serial)).status).toBe("good");
    expect((await registry.get(id, systemCaller)).version).toBe(3);
  });
});
