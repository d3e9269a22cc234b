import { afterEach, beforeEach, expect, test } from "vitest";
import { forEachDatabase, testDatabase, type TestDatabase } from "../../test/support/databases.js";
import { opensslSelfSigned, workdir } from "../../test/support/openssl.js";
import { testRegistry } from "../../test/support/registry.js";
import { operatorCaller } from "../policy/index.js";
import type { Registry } from "./registry.js";

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

  test("keeps a manufacturer of printable ASCII and a parsed IDevID", async () => {
    const dir = await workdir();
    try {
      const { pem } = await opensslSelfSigned(dir, "idevid", "/CN=SN-5", [], "ed25519");
      const d = await devices.register(
        {
          serialNumber: "SN-5",
          manufacturer: "Acme Devices, Inc.",
          idevid: pem,
        },
        admin,
      );
      expect(await devices.get(d.id, admin)).toMatchObject({
        manufacturer: "Acme Devices, Inc.",
        hasIdevid: true,
      });
    } finally {
      await dir.dispose();
    }
  });

  test("refuses a second device with the same serial in a tenant", async () => {
    await devices.register({ serialNumber: "SN-1" }, admin);
    await expect(devices.register({ serialNumber: "SN-1" }, admin)).rejects.toMatchObject({
      code: "conflict",
    });
    await devices.register({ serialNumber: "SN-1", tenant: "other" }, admin);
    expect(await devices.list({}, admin)).toHaveLength(2);
  });
});
