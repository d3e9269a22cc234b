/**
 * PROBE (attack re-run of issue 13, class 1, a sibling of the URN rule in src/ca/device-identity.ts),
 * was a defect (fixed in src/ca/device-identity.ts): an unbound certificate may name a registered device by its hardware identity. The
 * registry names a device in its bound certificates by subject CN and serialNumber (IEEE 802.1AR
 * §8.6) and by URN; only the URN is refused on an unbound certificate. A CSR with subject
 * "CN=ACME-1, serialNumber=ACME-1" and a hardwareModuleName otherName (RFC 4108 §5) with serial
 * ACME-1 got, unbound, a certificate whose subject is byte-for-byte the bound certificate's
 * (reproduced against `keyfleet serve`: POST /api/v1/certificates, admin token, no deviceId → 201,
 * "subject":"CN=ACME-1, serialNumber=ACME-1", deviceId null). A relying party that maps the
 * subject (mosquitto's use_identity_as_username takes the CN) or the HardwareModuleName to a
 * device accepts it as that device, and retiring the device cannot find it (no device_id).
 * Severity Low–Medium: only unscoped issuers (operator, admin) issue unbound certificates.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import type { Device } from "../src/registry/index.js";
import { testApp, type TestApp } from "./support/app.js";
import { opensslCsr, workdir, type Workdir } from "./support/openssl.js";
import { certificateFields, generalNames } from "./support/x509-fields.js";
import { systemCaller } from "../src/policy/index.js";

let t: TestApp;
let dir: Workdir;
let device: Device;

beforeAll(async () => {
  t = await testApp("pglite");
  dir = await workdir();
  await t.app.authority.init({ algorithm: "p256" });
  device = await t.app.devices.register({ serialNumber: "ACME-0001", tenant: "acme" }, systemCaller);
});
afterAll(async () => {
  await dir?.dispose();
  await t?.dispose();
});

test("an unbound certificate carries no registered device's serial (subject or hardwareModuleName)", async () => {
  const hwSerial = Buffer.from(device.serialNumber).toString("hex");
  const config = await dir.write(
    "hmn.cnf",
    `[req]\ndistinguished_name = dn\n[dn]\n[hwmn]\nhwType = OID:1.3.6.1.4.1.99999.1\nhwSerialNum = FORMAT:HEX,OCTETSTRING:${hwSerial}\n`,
  );
  const csr = await opensslCsr(
    dir,
    "p256",
    `/CN=${device.serialNumber}/serialNumber=${device.serialNumber}`,
    ["-config", config, "-addext", "subjectAltName=otherName:1.3.6.1.5.5.7.8.4;SEQUENCE:hwmn"],
  );
  const bound = await t.app.devices.issue(
    { csr: await opensslCsr(dir, "p256", "/CN=x"), deviceId: device.id },
    systemCaller,
  );
  const outcome = await t.app.authority.issue({ csr }).then(
    (c) => c,
    (e: unknown) => ({ refused: (e as { code?: string }).code }),
  );
  if ("refused" in outcome) return expect(outcome.refused).toMatch(/^(profile-violation|forbidden)$/);
  const san = certificateFields(outcome.der).extensions.find((x) => x.oid === "2.5.29.17");
  const hardwareSerials = (san ? generalNames(san.value) : [])
    .filter((n) => n.startsWith("otherName:1.3.6.1.5.5.7.8.4:"))
    .map((n) => Buffer.from(n.split(":").pop()!, "hex").toString());
  // Today: subject equals the bound certificate's, and the hardware serial is the device's.
  expect({ sameSubjectAsBound: outcome.subject === bound.subject, hardwareSerials }).toEqual({
    sameSubjectAsBound: false,
    hardwareSerials: [],
  });
});
