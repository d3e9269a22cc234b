import { afterEach, beforeEach, expect, test } from "vitest";
import { forEachDatabase, testDatabase, type TestDatabase } from "../../test/support/databases.js";
import { deviceRepository } from "../store/index.js";
import { deviceService, type DeviceService } from "./devices.js";

forEachDatabase("device registration", (kind) => {
  let t: TestDatabase;
  let devices: DeviceService;
  beforeEach(async () => {
    t = await testDatabase(kind);
    devices = deviceService(deviceRepository(t.database.db));
  });
  afterEach(() => t.dispose());

  test("registers a device in state registered and reads it back", async () => {
    const d = await devices.register({ serialNumber: "SN-0001", model: "m1", tenant: "acme" });
    expect(await devices.get(d.id)).toMatchObject({
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
  ])("refuses %s and registers nothing", async (_name, input) => {
    await expect(devices.register(input)).rejects.toMatchObject({ code: "malformed-request" });
    expect(await devices.list({})).toEqual([]);
  });

  test("refuses a second device with the same serial in a tenant", async () => {
    await devices.register({ serialNumber: "SN-1" });
    await expect(devices.register({ serialNumber: "SN-1" })).rejects.toMatchObject({ code: "conflict" });
    await devices.register({ serialNumber: "SN-1", tenant: "other" });
    expect(await devices.list({})).toHaveLength(2);
  });
});
