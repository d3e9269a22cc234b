/**
 * Manufacturers and IDevIDs on both stores: an IDevID is registered only when it validates to a CA
 * certificate of the registered manufacturer the device names; every refusal changes nothing.
 */
import { afterEach, beforeEach, expect, test } from "vitest";
import { auditLog } from "../src/audit/index.js";
import { fixedClock, systemClock } from "../src/domain/index.js";
import type { Caller } from "../src/policy/index.js";
import {
  createRegistry,
  registryDeps,
  type ManufacturerService,
  type Registry,
} from "../src/registry/index.js";
import { forEachDatabase, testDatabase, type TestDatabase } from "./support/databases.js";
import { registeredManufacturer, testManufacturer } from "./support/idevid.js";
import { lifecycleCounts } from "./support/registry.js";
import { refusal } from "./support/refusal.js";

const caAdmin: Caller = { actor: "token:ca-admin", role: "ca-admin", scopes: {} };
const operator: Caller = { actor: "token:operator", role: "operator", scopes: {} };

forEachDatabase("manufacturers and IDevIDs", (kind) => {
  let t: TestDatabase;
  let registry: Registry;
  let manufacturers: ManufacturerService;

  beforeEach(async () => {
    t = await testDatabase(kind);
    const deps = registryDeps({
      database: t.database,
      clock: systemClock,
      issue: () => Promise.reject(new Error("none")),
    });
    registry = createRegistry(deps);
    manufacturers = deps.manufacturers;
  });
  afterEach(() => t.dispose());

  test("an IDevID that validates to its manufacturer's CA registers; the manufacturer lists its CA", async () => {
    const acme = await registeredManufacturer(t.database, "Acme");
    const device = await registry.register(
      { serialNumber: "ACME-1", manufacturer: "Acme", idevid: acme.idevid("ACME-1") },
      operator,
    );
    expect(device).toMatchObject({ manufacturer: "Acme", hasIdevid: true });
    const shown = await manufacturers.get(operator, "Acme");
    expect(shown.certificates).toHaveLength(1);
    expect(shown.certificates[0]!.subject).toContain("Acme IDevID CA");
  });

  test.each([
    ["no manufacturer named", undefined, "unknown-manufacturer", /names its manufacturer/],
    [
      "an unregistered manufacturer",
      "Globex",
      "unknown-manufacturer",
      /manufacturer "Globex" is not registered/,
    ],
    [
      "another manufacturer's CA",
      "Initech",
      "untrusted-idevid",
      /does not validate to a CA certificate of manufacturer "Initech".*no-path-to-anchor/,
    ],
  ])("refuses an IDevID with %s, and registers nothing", async (_what, named, code, message) => {
    const acme = await registeredManufacturer(t.database, "Acme");
    await registeredManufacturer(t.database, "Initech");
    const before = await lifecycleCounts(t.database);
    const e = await refusal(
      registry.register({ serialNumber: "X-1", manufacturer: named, idevid: acme.idevid("X-1") }, operator),
    );
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
    expect(await lifecycleCounts(t.database)).toEqual(before);
  });

  test("refuses an expired IDevID, and a batch holding one registers none of it", async () => {
    const acme = await registeredManufacturer(t.database, "Acme");
    const expired = acme.idevid("OLD-1", {
      notBefore: new Date("2020-01-01"),
      notAfter: new Date("2021-01-01"),
    });
    const before = await lifecycleCounts(t.database);
    const e = await refusal(
      registry.registerMany(
        [
          { serialNumber: "NEW-1", manufacturer: "Acme", idevid: acme.idevid("NEW-1") },
          { serialNumber: "OLD-1", manufacturer: "Acme", idevid: expired },
        ],
        operator,
      ),
    );
    expect(e.code).toBe("untrusted-idevid");
    expect(e.message).toMatch(/^device 1 of the batch: the IDevID does not validate .*\(expired\)$/);
    expect(await lifecycleCounts(t.database)).toEqual(before);
  });

  test("only an unscoped ca-admin (or admin) adds a manufacturer or a CA, which must be a CA; each is an audit leaf", async () => {
    const maker = testManufacturer("Umbrella");
    expect(
      (await refusal(manufacturers.add(operator, { name: "Umbrella", certificates: [maker.ca.der] }))).code,
    ).toBe("forbidden");
    const scoped: Caller = { ...caAdmin, scopes: { tenant: ["acme"] } };
    expect(
      (await refusal(manufacturers.add(scoped, { name: "Umbrella", certificates: [maker.ca.der] }))).message,
    ).toMatch(/trusted in every tenant/);
    const leaf = maker.idevid("U-1");
    expect(
      (await refusal(manufacturers.add(caAdmin, { name: "Umbrella", certificates: [leaf] }))).message,
    ).toMatch(/is not a CA certificate/);
    expect(await manufacturers.list(caAdmin, { limit: 10 })).toEqual([]);

    const added = await manufacturers.add(caAdmin, { name: "Umbrella", certificates: [maker.ca.der] });
    const second = testManufacturer("Umbrella 2").ca;
    expect((await manufacturers.addCertificate(caAdmin, added.id, second.der)).certificates).toHaveLength(2);
    expect(
      (await refusal(manufacturers.add(caAdmin, { name: "Umbrella", certificates: [second.der] }))).code,
    ).toBe("conflict");
    const types = (
      await auditLog({ database: t.database, clock: systemClock }).entriesAbout(`manufacturer:${added.id}`)
    ).map((e) => e.entry.type);
    expect(types).toEqual(["manufacturer.added", "manufacturer.certificate-added"]);
  });

  test("a manufacturer's IDevIDs are checked at the registry's time", async () => {
    const at = new Date("2030-06-01T00:00:00Z");
    const future = await registeredManufacturer(t.database, "Future", at);
    const later = createRegistry(
      registryDeps({
        database: t.database,
        clock: fixedClock(at.toISOString()),
        issue: () => Promise.reject(new Error("none")),
      }),
    );
    expect(
      (
        await later.register(
          { serialNumber: "F-1", manufacturer: "Future", idevid: future.idevid("F-1") },
          operator,
        )
      ).hasIdevid,
    ).toBe(true);
    const now = await refusal(
      registry.register(
        { serialNumber: "F-2", manufacturer: "Future", idevid: future.idevid("F-2") },
        operator,
      ),
    );
    expect(now.message).toMatch(/not-yet-valid/);
  });
});
