import { afterEach, beforeEach, expect, test } from "vitest";
import { forEachDatabase, testDatabase, type TestDatabase } from "../../test/support/databases.js";
import { testRegistry } from "../../test/support/registry.js";
import { operatorCaller, type Caller } from "../policy/index.js";
import type { Registry } from "./registry.js";

const admin = operatorCaller("cli:test");
const scoped = (scopes: Caller["scopes"]): Caller => ({ actor: "token:t", role: "viewer", scopes });

forEachDatabase("device groups", (kind) => {
  let t: TestDatabase;
  let devices: Registry;
  beforeEach(async () => {
    t = await testDatabase(kind);
    devices = testRegistry(t.database);
    await devices.registerMany(
      [
        { serialNumber: "G-1", tenant: "acme", region: "eu", groups: ["sensors", "lot-7"] },
        { serialNumber: "G-2", tenant: "acme", region: "us", groups: ["sensors"] },
        { serialNumber: "G-3", tenant: "acme", region: "us", groups: ["gateways"] },
        { serialNumber: "G-4", tenant: "globex", region: "eu", groups: ["sensors"] },
        { serialNumber: "G-5", tenant: "globex" },
      ],
      admin,
    );
  });
  afterEach(() => t.dispose());

  const listed = async (caller: Caller) =>
    (await devices.groups(caller)).items.map((g) => [g.tenant, g.name, g.devices]);

  test("lists every group by tenant and name with its number of devices, counting later registrations", async () => {
    await devices.register({ serialNumber: "G-6", tenant: "acme", groups: ["sensors"] }, admin);
    expect(await listed(admin)).toEqual([
      ["acme", "gateways", 1],
      ["acme", "lot-7", 1],
      ["acme", "sensors", 3],
      ["globex", "sensors", 1],
    ]);
  });

  test("a scoped caller sees only the groups with devices in its scope, counted inside it", async () => {
    expect(await listed(scoped({ tenant: ["globex"] }))).toEqual([["globex", "sensors", 1]]);
    expect(await listed(scoped({ region: ["us"] }))).toEqual([
      ["acme", "gateways", 1],
      ["acme", "sensors", 1],
    ]);
    expect(await listed(scoped({ tenant: ["acme"], region: ["eu"] }))).toEqual([
      ["acme", "lot-7", 1],
      ["acme", "sensors", 1],
    ]);
    expect(await listed(scoped({ tenant: ["initech"] }))).toEqual([]);
  });

  test("pages by key: each group once, in order, then no cursor", async () => {
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await devices.groups(admin, { limit: 3, after });
      seen.push(...page.items.map((g) => `${g.tenant}/${g.name}`));
      after = page.next;
      if (!after) break;
    }
    expect(seen).toEqual(["acme/gateways", "acme/lot-7", "acme/sensors", "globex/sensors"]);
  });

  test("refuses a cursor it did not give out, a role that may not read devices, and a page too large", async () => {
    await expect(devices.groups(admin, { after: "bm9wZQ" })).rejects.toMatchObject({
      code: "malformed-request",
    });
    await expect(devices.groups({ actor: "token:m", role: "metrics", scopes: {} })).rejects.toMatchObject({
      code: "forbidden",
    });
    await expect(devices.groups(admin, { limit: 501 })).rejects.toMatchObject({ code: "malformed-request" });
  });

  test("a refused registration records no group", async () => {
    await expect(
      devices.registerMany(
        [
          { serialNumber: "G-7", tenant: "acme", groups: ["doomed"] },
          { serialNumber: "G-1", tenant: "initech", groups: ["doomed"] },
        ],
        admin,
      ),
    ).rejects.toMatchObject({ code: "conflict" });
    const rows = await t.database.db
      .selectFrom("device_groups")
      .select("name")
      .where("name", "=", "doomed")
      .execute();
    expect(rows).toEqual([]);
  });
});
