import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { forEachDatabase, testDatabase, type TestDatabase } from "../../test/support/databases.js";
import { initializedAuthority } from "../../test/support/authority.js";
import { opensslCsr, workdir, type Workdir } from "../../test/support/openssl.js";
import { registeredManufacturer } from "../../test/support/idevid.js";
import { lifecycleCounts, testRegistry } from "../../test/support/registry.js";
import type { Authority } from "../ca/index.js";
import { fixedClock, type CertificateSerial, type EvidenceRef } from "../domain/index.js";
import { outbox } from "../events/index.js";
import { systemCaller, type Caller } from "../policy/index.js";
import type { Registry } from "./registry.js";

let dir: Workdir;
let csr: string;
beforeAll(async () => {
  dir = await workdir();
  csr = await opensslCsr(dir, "p256", "/CN=sensor");
});
afterAll(() => dir.dispose());

const admin: Caller = { actor: "token:admin-1", role: "admin", scopes: {} };
const proof: EvidenceRef[] = [{ kind: "proof-of-possession", ref: "sig:1" }];

forEachDatabase("lifecycle transitions", (kind) => {
  let t: TestDatabase;
  let registry: Registry;
  let authority: Authority;
  const clock = fixedClock("2026-06-01T00:00:00Z");

  beforeEach(async () => {
    t = await testDatabase(kind);
    authority = await initializedAuthority(t.database);
    registry = testRegistry(t.database, clock);
  });
  afterEach(() => t.dispose());

  /** A registered device with a certificate, taken to active (register v1, issue v2, confirm v3). */
  async function activeDevice(serialNumber = "SN-1") {
    const device = await registry.register({ serialNumber }, admin);
    const serials = [(await registry.issue({ csr, deviceId: device.id }, admin)).serial];
    await registry.apply(device.id, { kind: "confirm" }, systemCaller, { evidence: proof });
    return { id: device.id, serials };
  }

  const statuses = async (serials: string[]) =>
    Promise.all(serials.map(async (s) => (await authority.certificate(s)).status));

  test("suspend puts every good certificate on hold and resume lifts it, each a recorded transition", async () => {
    const { id, serials } = await activeDevice();
    const suspended = await registry.apply(id, { kind: "suspend" }, admin, { reason: "lost in transit" });
    expect(suspended.device).toMatchObject({ state: "suspended", version: 4 });
    expect(suspended.event.credentials).toEqual([
      { serial: serials[0], status: "hold", reason: "certificateHold" },
    ]);
    expect(await statuses(serials)).toEqual(["hold"]);
    const resumed = await registry.apply(id, { kind: "resume" }, admin);
    expect(resumed.device.state).toBe("active");
    expect(await statuses(serials)).toEqual(["good"]);

    const history = await registry.history(id, admin);
    expect(history.items.map((e) => [e.command, e.from, e.to, e.version])).toEqual([
      ["issue", "registered", "provisioned", 2],
      ["confirm", "provisioned", "active", 3],
      ["suspend", "active", "suspended", 4],
      ["resume", "suspended", "active", 5],
    ]);
    expect(history.items[2]).toMatchObject({
      actor: admin.actor,
      reason: "lost in transit",
      policyVersion: 0,
    });
    expect(history.items[1]!.evidence).toEqual(proof);
  });

  test("every transition has one audit leaf and one outbox event, at the same position", async () => {
    const { id } = await activeDevice();
    await registry.apply(id, { kind: "suspend" }, admin);
    const history = (await registry.history(id, admin)).items;
    const feed = await outbox(t.database).feed(undefined, 100);
    const transitions = feed.items.filter((e) => e.type === "device.transitioned");
    expect(transitions.map((e) => e.position)).toEqual(history.map((e) => e.auditIndex));
    expect(transitions.map((e) => e.payload["event"])).toEqual(history.map((e) => e.id));
    const leaves = await t.database.db
      .selectFrom("audit_leaves")
      .select(["idx", "entry"])
      .where("subject", "=", `device:${id}`)
      .orderBy("idx")
      .execute();
    // The registration and the three transitions.
    expect(leaves.map((l) => JSON.parse(l.entry).type)).toEqual([
      "device.registered",
      "device.transitioned",
      "device.transitioned",
      "device.transitioned",
    ]);
    expect(leaves.slice(1).map((l) => Number(l.idx))).toEqual(history.map((e) => e.auditIndex));
  });

  test("finalize revokes every certificate with cessationOfOperation and tombstones the hardware identity", async () => {
    const maker = await registeredManufacturer(t.database, "Acme", clock.now());
    const idevid = maker.idevid("SN-T");
    const device = await registry.register({ serialNumber: "SN-T", manufacturer: "Acme", idevid }, admin);
    expect(await registry.deviceOfClientCertificate(idevid)).toMatchObject({
      kind: "idevid",
      device: { id: device.id },
    });
    const serial = (await registry.issue({ csr, deviceId: device.id }, admin)).serial;
    await registry.apply(device.id, { kind: "retire" }, admin);
    expect((await authority.certificate(serial)).status).toBe("hold");
    const done = await registry.apply(device.id, { kind: "finalize" }, admin);
    expect(done.device.state).toBe("decommissioned");
    expect(done.event.credentials).toEqual([{ serial, status: "revoked", reason: "cessationOfOperation" }]);
    // Never again, in any tenant, by serial or by IDevID.
    for (const again of [
      { serialNumber: "SN-T", tenant: "other" },
      { serialNumber: "SN-U", manufacturer: "Acme", idevid },
    ]) {
      const before = await lifecycleCounts(t.database);
      await expect(registry.register(again, admin)).rejects.toMatchObject({ code: "identity-tombstoned" });
      expect(await lifecycleCounts(t.database)).toEqual(before);
    }
    // Nor does its IDevID enroll.
    await expect(registry.deviceOfClientCertificate(idevid)).rejects.toMatchObject({
      code: "unauthorized",
      detail: { credential: "idevid", reason: "identity-tombstoned" },
    });
  });

  test("a certificate for a device is its transition: issue, then again before confirm (the first superseded), then a rotation", async () => {
    const device = await registry.register({ serialNumber: "SN-R" }, admin);
    const first = (await registry.issue({ csr, deviceId: device.id }, admin)).serial;
    expect(await registry.get(device.id, admin)).toMatchObject({ state: "provisioned", version: 2 });
    const second = (await registry.issue({ csr, deviceId: device.id }, admin)).serial;
    expect(await statuses([first, second])).toEqual(["revoked", "good"]);
    await registry.apply(device.id, { kind: "confirm" }, systemCaller, { evidence: proof });
    const successor = (await registry.issue({ csr, deviceId: device.id }, admin)).serial;
    expect(await registry.get(device.id, admin)).toMatchObject({ state: "rotating", successor });
    // Leaving the rotation another way abandons the successor; the current credential is held.
    const suspended = await registry.apply(device.id, { kind: "suspend" }, admin);
    expect(suspended.event.credentials).toEqual([
      { serial: successor, status: "revoked", reason: "cessationOfOperation" },
      { serial: second, status: "hold", reason: "certificateHold" },
    ]);
    const history = (await registry.history(device.id, admin)).items;
    expect(history.map((e) => e.command)).toEqual(["issue", "issue", "confirm", "rotate", "suspend"]);
    const issued = await authority.certificate(second);
    expect(issued).toMatchObject({ deviceId: device.id });
  });

  test("a device that may not have a certificate now gets none, and nothing is recorded", async () => {
    const { id } = await activeDevice("SN-S");
    await registry.apply(id, { kind: "suspend" }, admin);
    const before = {
      ...(await lifecycleCounts(t.database)),
      certificates: (await authority.certificates({})).items.length,
    };
    await expect(registry.issue({ csr, deviceId: id }, admin)).rejects.toMatchObject({
      code: "invalid-transition",
      detail: { state: "suspended" },
    });
    expect({
      ...(await lifecycleCounts(t.database)),
      certificates: (await authority.certificates({})).items.length,
    }).toEqual(before);
  });

  test("issue must name a good certificate of this very device", async () => {
    const device = await registry.register({ serialNumber: "SN-N" }, admin);
    const other = await activeDevice("SN-O");
    const unbound = (await registry.issue({ csr }, admin)).serial;
    const before = await lifecycleCounts(t.database);
    for (const certificate of [other.serials[0]!, unbound, "00", undefined]) {
      await expect(
        registry.apply(
          device.id,
          { kind: "issue", certificate: certificate as CertificateSerial },
          systemCaller,
        ),
      ).rejects.toMatchObject({ code: "invalid-transition" });
    }
    expect(await lifecycleCounts(t.database)).toEqual(before);
  });

  test("finalize of a compromised device revokes with keyCompromise", async () => {
    const { id, serials } = await activeDevice("SN-K");
    await registry.apply(id, { kind: "retire" }, admin);
    const done = await registry.apply(id, { kind: "finalize", compromised: true }, admin);
    expect(done.event.credentials).toEqual([
      { serial: serials[0], status: "revoked", reason: "keyCompromise" },
    ]);
  });

  test("refuses to resume a decommissioned device and changes nothing", async () => {
    const { id, serials } = await activeDevice();
    await registry.apply(id, { kind: "retire" }, admin);
    await registry.apply(id, { kind: "finalize" }, admin);
    const before = await lifecycleCounts(t.database);
    await expect(registry.apply(id, { kind: "resume" }, admin)).rejects.toMatchObject({
      code: "invalid-transition",
      detail: { reason: "terminal-state", state: "decommissioned" },
    });
    expect(await lifecycleCounts(t.database)).toEqual(before);
    expect(await registry.get(id, admin)).toMatchObject({ state: "decommissioned", version: 5 });
    expect(await statuses(serials)).toEqual(["revoked"]);
  });

  test("a stale If-Match is refused as precondition-failed and changes nothing", async () => {
    const { id } = await activeDevice();
    const before = await lifecycleCounts(t.database);
    await expect(registry.apply(id, { kind: "suspend" }, admin, { ifMatch: 2 })).rejects.toMatchObject({
      code: "precondition-failed",
      detail: { version: 3 },
    });
    expect(await lifecycleCounts(t.database)).toEqual(before);
    await expect(registry.apply(id, { kind: "suspend" }, admin, { ifMatch: 3 })).resolves.toMatchObject({
      device: { state: "suspended" },
    });
  });

  test("a retry with the same idempotency key answers as the first did and writes nothing", async () => {
    const { id } = await activeDevice();
    const first = await registry.apply(id, { kind: "suspend" }, admin, {
      idempotencyKey: "k-1",
      reason: "r",
    });
    const before = await lifecycleCounts(t.database);
    const retry = await registry.apply(id, { kind: "suspend" }, admin, {
      idempotencyKey: "k-1",
      reason: "r",
    });
    expect(retry).toMatchObject({
      replayed: true,
      event: { id: first.event.id },
      device: { version: first.device.version },
    });
    expect(await lifecycleCounts(t.database)).toEqual(before);
    await expect(
      registry.apply(id, { kind: "resume" }, admin, { idempotencyKey: "k-1" }),
    ).rejects.toMatchObject({
      code: "conflict",
    });
    expect(await lifecycleCounts(t.database)).toEqual(before);
  });

  test("cancel is allowed within the grace period only", async () => {
    const { id } = await activeDevice("SN-G");
    await registry.apply(id, { kind: "retire" }, admin);
    expect((await registry.get(id, admin)).graceUntil).toEqual(new Date("2026-06-08T00:00:00Z"));
    const other = await activeDevice("SN-H");
    await registry.apply(other.id, { kind: "retire" }, admin);
    await expect(registry.apply(id, { kind: "cancel" }, admin)).resolves.toMatchObject({
      device: { state: "suspended", graceUntil: null },
    });
    clock.advance(7 * 24 * 3600);
    await expect(registry.apply(other.id, { kind: "cancel" }, admin)).rejects.toMatchObject({
      code: "invalid-transition",
      detail: { reason: "grace-expired" },
    });
  });

  test.each([
    ["an unknown device", "no-such-device", {}, "not-found"],
    ["an idempotency key with a space", undefined, { idempotencyKey: "a b" }, "malformed-request"],
    ["a reason with a control character", undefined, { reason: "x\u0007" }, "malformed-request"],
    ["a reason of 501 characters", undefined, { reason: "r".repeat(501) }, "malformed-request"],
    [
      "evidence of an unknown kind",
      undefined,
      { evidence: [{ kind: "hunch", ref: "x" }] },
      "malformed-request",
    ],
  ] as const)("refuses %s and changes nothing", async (_name, deviceId, options, code) => {
    const { id } = await activeDevice("SN-B");
    const before = await lifecycleCounts(t.database);
    await expect(
      registry.apply(deviceId ?? id, { kind: "suspend" }, admin, options as never),
    ).rejects.toMatchObject({ code });
    expect(await lifecycleCounts(t.database)).toEqual(before);
    expect((await registry.get(id, admin)).state).toBe("active");
  });

  describe("concurrency", () => {
    test("50 simultaneous commands at one device: the allowed ones win, the others are refused, the records match the winners", async () => {
      const { id } = await activeDevice("SN-C");
      const before = await lifecycleCounts(t.database);
      // Commands that undo each other (suspend/resume, retire/cancel), so several can win in turn.
      const cycle = ["suspend", "resume", "retire", "cancel", "resume"] as const;
      const commands = Array.from({ length: 50 }, (_, i) => cycle[i % cycle.length]!);
      const settled = await Promise.allSettled(commands.map((kind) => registry.apply(id, { kind }, admin)));
      const won = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
      const lost = settled.flatMap((s) => (s.status === "rejected" ? [s.reason as { code: string }] : []));
      expect(won.length).toBeGreaterThanOrEqual(1);
      expect(lost.every((e) => e.code === "invalid-transition")).toBe(true);
      // Winners form one chain of versions; each moved from the state the previous one left.
      const chain = won.map((w) => w.event).sort((a, b) => a.version - b.version);
      expect(chain.map((e) => e.version)).toEqual(chain.map((_, i) => 4 + i));
      chain.forEach((e, i) => expect(e.from).toBe(i === 0 ? "active" : chain[i - 1]!.to));
      const after = await lifecycleCounts(t.database);
      expect(after.lifecycleEvents - before.lifecycleEvents).toBe(won.length);
      expect(after.outbox - before.outbox).toBe(won.length);
      expect(after.auditLeaves - before.auditLeaves).toBe(won.length);
      const device = await registry.get(id, admin);
      expect(device).toMatchObject({ version: 3 + won.length, state: chain[chain.length - 1]!.to });
    });
  });
});
