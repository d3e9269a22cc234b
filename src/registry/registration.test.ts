import { afterEach, beforeEach, expect, test } from "vitest";
import { forEachDatabase, testDatabase, type TestDatabase } from "../../test/support/databases.js";
import { registeredManufacturer } from "../../test/support/idevid.js";
import { lifecycleCounts, testRegistry } from "../../test/support/registry.js";
import { testCertificate, testKeyPair } from "../pki/test-certificate.js";
import { operatorCaller, type Caller } from "../policy/index.js";
import type { DeviceRegistration } from "./registration.js";
import type { Registry } from "./registry.js";

const DAY = 86_400_000;

const admin = operatorCaller("cli:test");

forEachDatabase("device registration", (kind) => {
  let t: TestDatabase;
  let devices: Registry;
  beforeEach(async () => {
    t = await testDatabase(kind);
    devices = testRegistry(t.database);
  });
  afterEach(() => t.dispose());

  test("registers a device in state registered and reads it back", async () => {
    const d = await devices.register({ serialNumber: "SN-0001", model: "m1", tenant: "acme" }, admin);
    expect(await devices.get(d.id, admin)).toMatchObject({
      serialNumber: "SN-0001",
      state: "registered",
      tenant: "acme",
      hasIdevid: false,
    });
  });

  test.each([
    ["a serial a certificate cannot carry", { serialNumber: "SN_0001#" }],
    ["an empty serial", { serialNumber: "" }],
    ["an IDevID that is not a certificate", { serialNumber: "SN-2", idevid: "nope" }],
    [
      "an IDevID that only starts like DER",
      { serialNumber: "SN-2", idevid: new Uint8Array([0x30, ...Buffer.from("garbage")]) },
    ],
    ["a serial with a leading space", { serialNumber: " SN-3" }],
    ["a serial with a trailing space", { serialNumber: "SN-3 " }],
    ["a manufacturer of 5000 characters", { serialNumber: "SN-4", manufacturer: "m".repeat(5000) }],
    ["a manufacturer with a control character", { serialNumber: "SN-4", manufacturer: "a\x01b" }],
    ["an empty manufacturer", { serialNumber: "SN-4", manufacturer: "" }],
  ])("refuses %s and registers nothing", async (_name, input) => {
    await expect(devices.register(input, admin)).rejects.toMatchObject({ code: "malformed-request" });
    expect(await devices.list({}, admin)).toEqual([]);
  });

  test("keeps a manufacturer of printable ASCII and an IDevID that validates to its CA", async () => {
    const maker = await registeredManufacturer(t.database, "Acme Devices, Inc.");
    const d = await devices.register(
      { serialNumber: "SN-5", manufacturer: "Acme Devices, Inc.", idevid: maker.idevid("SN-5") },
      admin,
    );
    expect(await devices.get(d.id, admin)).toMatchObject({
      manufacturer: "Acme Devices, Inc.",
      hasIdevid: true,
    });
  });

  test("refuses a serial, an IDevID or an IDevID's public key another device holds, in any tenant, and registers nothing", async () => {
    const maker = await registeredManufacturer(t.database, "Acme");
    const key = testKeyPair("p256");
    const validity = { notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 30 * DAY) };
    const idevid = (serial: string) =>
      testCertificate({ commonName: serial, key, issuer: maker.ca, ...validity }).der;
    const held = idevid("SN-1");
    const first = await devices.register(
      { serialNumber: "SN-1", tenant: "acme", manufacturer: "Acme", idevid: held },
      admin,
    );
    const again: [DeviceRegistration, string][] = [
      [{ serialNumber: "SN-1", tenant: "other" }, "serial"],
      [{ serialNumber: "SN-2", tenant: "other", manufacturer: "Acme", idevid: held }, "idevid-sha256"],
      // Another certificate for the same key.
      [
        { serialNumber: "SN-3", tenant: "other", manufacturer: "Acme", idevid: idevid("SN-3") },
        "public-key-sha256",
      ],
    ];
    for (const [input, identity] of again) {
      const before = await lifecycleCounts(t.database);
      await expect(devices.register(input, admin)).rejects.toMatchObject({
        code: "conflict",
        message: expect.stringContaining(`is already registered, to device "${first.id}" in tenant "acme"`),
        detail: { identity, device: first.id },
      });
      expect(await lifecycleCounts(t.database)).toEqual(before);
    }
  });

  test("tells a scoped caller what collided, not which device of another scope holds it", async () => {
    const held = await devices.register({ serialNumber: "SN-9", tenant: "acme" }, admin);
    const other: Caller = { actor: "token:t1", role: "provisioner", scopes: { tenant: ["other"] } };
    const refused = await devices.register({ serialNumber: "SN-9", tenant: "other" }, other).catch((e) => e);
    expect(refused).toMatchObject({ code: "conflict", detail: { identity: "serial" } });
    expect(refused.message).toBe(
      'serial "SN-9" is already registered, to a device outside this caller\'s scope',
    );
    expect(JSON.stringify(refused.detail)).not.toContain(held.id);
  });

  test("of simultaneous registrations of one serial exactly one wins, with one audit leaf and one outbox event", async () => {
    const before = await lifecycleCounts(t.database);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        devices.registerMany(
          [{ serialNumber: `RACE-${i}` }, { serialNumber: "RACE", tenant: `t${i}` }],
          admin,
        ),
      ),
    );
    const won = outcomes.filter((o) => o.status === "fulfilled");
    expect(won).toHaveLength(1);
    for (const o of outcomes.filter((o) => o.status === "rejected")) {
      expect((o as PromiseRejectedResult).reason).toMatchObject({
        code: "conflict",
        detail: { index: 1, identity: "serial" },
      });
    }
    const after = await lifecycleCounts(t.database);
    expect([
      after.devices - before.devices,
      after.auditLeaves - before.auditLeaves,
      after.outbox - before.outbox,
    ]).toEqual([2, 2, 2]);
    expect((await devices.list({}, admin)).filter((d) => d.serialNumber === "RACE")).toHaveLength(1);
  });
});

forEachDatabase("batch registration and list filters", (kind) => {
  let t: TestDatabase;
  let devices: Registry;
  const admin = operatorCaller("cli:test");
  const counts = () => lifecycleCounts(t.database);
  beforeEach(async () => {
    t = await testDatabase(kind);
    devices = testRegistry(t.database);
  });
  afterEach(() => t.dispose());

  test("a batch registers every device with its audit leaf and outbox event, in one transaction", async () => {
    const before = await counts();
    const made = await devices.registerMany(
      Array.from({ length: 1500 }, (_, i) => ({
        serialNumber: `B-${i}`,
        groups: ["lot-7"],
        labels: { site: "a" },
      })),
      admin,
    );
    expect(made).toHaveLength(1500);
    const after = await counts();
    expect([
      after.devices - before.devices,
      after.auditLeaves - before.auditLeaves,
      after.outbox - before.outbox,
    ]).toEqual([1500, 1500, 1500]);
    expect(made[0]).toMatchObject({ groups: ["lot-7"], labels: { site: "a" }, state: "registered" });
  });

  test.each([
    [
      "a serial already registered",
      [{ serialNumber: "B-new" }, { serialNumber: "TAKEN" }],
      "conflict",
      /device 1 of the batch: serial "TAKEN" is already registered/,
    ],
    [
      "the same serial twice, in two tenants",
      [{ serialNumber: "X-1" }, { serialNumber: "X-1", tenant: "other" }],
      "malformed-request",
      /devices 0 and 1 of the batch/,
    ],
    [
      "a bad label",
      [{ serialNumber: "X-2" }, { serialNumber: "X-3", labels: { "Bad Key": "v" } }],
      "malformed-request",
      /device 1 of the batch: a device has at most 32 labels/,
    ],
    ["a bad group", [{ serialNumber: "X-4", groups: ["-x"] }], "malformed-request", /groups/],
    ["an empty batch", [], "malformed-request", /1–10000 devices/],
  ] as const)("refuses a batch with %s and registers none of it", async (_n, batch, code, message) => {
    await devices.register({ serialNumber: "TAKEN" }, admin);
    const before = await counts();
    await expect(devices.registerMany(batch as never, admin)).rejects.toMatchObject({
      code,
      message: expect.stringMatching(message),
    });
    expect(await counts()).toEqual(before);
  });

  test("lists by state, tenant, region, model, firmware, group, label and certificate expiry, all together", async () => {
    await devices.registerMany(
      [
        {
          serialNumber: "F-1",
          tenant: "acme",
          region: "eu",
          model: "m1",
          firmwareVersion: "1.0",
          groups: ["g1"],
          labels: { site: "x" },
        },
        {
          serialNumber: "F-2",
          tenant: "acme",
          region: "us",
          model: "m1",
          firmwareVersion: "2.0",
          groups: ["g2"],
          labels: { site: "y" },
        },
        {
          serialNumber: "F-3",
          tenant: "globex",
          region: "eu",
          model: "m2",
          firmwareVersion: "1.0",
          groups: ["g1", "g2"],
        },
      ],
      admin,
    );
    const serials = async (q: Parameters<Registry["list"]>[0]) =>
      (await devices.list(q, admin)).map((d) => d.serialNumber).sort();
    expect(await serials({ tenant: "acme" })).toEqual(["F-1", "F-2"]);
    expect(await serials({ region: "eu" })).toEqual(["F-1", "F-3"]);
    expect(await serials({ model: "m1", firmwareVersion: "2.0" })).toEqual(["F-2"]);
    expect(await serials({ group: "g1" })).toEqual(["F-1", "F-3"]);
    expect(await serials({ group: "g2", tenant: "globex" })).toEqual(["F-3"]);
    expect(await serials({ label: { key: "site", value: "y" } })).toEqual(["F-2"]);
    expect(await serials({ state: "registered" })).toEqual(["F-1", "F-2", "F-3"]);
    expect(await serials({ state: "active" })).toEqual([]);
    expect(await serials({ certificateExpiringBefore: new Date("2100-01-01") })).toEqual([]);
    await expect(devices.list({ state: "asleep" as never }, admin)).rejects.toMatchObject({
      code: "malformed-request",
    });
  });
});
