/**
 * Found by the profile conformance work of issue 13: the device identity a certificate carries.
 * `urn:keyfleet:device:<id>` is what relying parties (brokers, ACLs) map a certificate to
 * (src/ca/issuance.ts says so), and the registry is its authority: a device-bound certificate gets
 * its URN from the device record. But a CSR's own SANs are copied unchecked, so a CSR that asks for
 * another device's URN (or hardware serial) gets a certificate naming that device too: unbound,
 * where no device record holds it (listing the device's certificates misses it, so retiring the
 * device cannot find it), and bound, where a certificate for device A also says it is device B,
 * across tenants for a tenant-scoped token that may not even see B.
 *
 * Fixed in src/ca/device-identity.ts: such claims are refused (profile-violation).
 */
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildHttpApp } from "../src/http/index.js";
import type { Device } from "../src/registry/index.js";
import { testApp, type TestApp } from "./support/app.js";
import { opensslCsr, workdir, type Workdir } from "./support/openssl.js";
import { certificateFields, generalNames } from "./support/x509-fields.js";
import { systemCaller } from "../src/policy/index.js";

const urn = (id: string): string => `urn:keyfleet:device:${id}`;

/** The SAN of a certificate as text ("URI:…", "DNS:…", "otherName:…"). */
function sans(der: Uint8Array): string[] {
  const san = certificateFields(der).extensions.find((x) => x.oid === "2.5.29.17");
  return san ? generalNames(san.value) : [];
}

/** The certificate an issuance made, or the code it was refused with. */
async function outcome(
  issuing: Promise<{ der: Uint8Array }>,
): Promise<{ refused: string } | { der: Uint8Array }> {
  return issuing.then(
    ({ der }) => ({ der }),
    (e: unknown) => ({ refused: (e as { code?: string }).code ?? String(e) }),
  );
}

/** The refusal codes a fix may choose: the CSR asks for a name the profile does not give it. */
const refusal = /^(profile-violation|forbidden-extension|forbidden)$/;
const uris = (der: Uint8Array): string[] => sans(der).filter((n) => n.startsWith("URI:"));

describe("a certificate names only the device the registry binds it to", () => {
  let t: TestApp;
  let dir: Workdir;
  let acme: Device;
  let globex: Device;
  let http: FastifyInstance;
  let acmeOperator: string;

  beforeAll(async () => {
    t = await testApp("pglite");
    dir = await workdir();
    await t.app.authority.init({ algorithm: "p256" });
    acme = await t.app.devices.register({ serialNumber: "ACME-0001", tenant: "acme" }, systemCaller);
    globex = await t.app.devices.register({ serialNumber: "GLOBEX-0001", tenant: "globex" }, systemCaller);
    acmeOperator = (await t.app.tokens.create({ role: "operator", scopes: { tenant: ["acme"] } })).token;
    http = await buildHttpApp(t.app, "full");
  });
  afterAll(async () => {
    await http?.close();
    await dir?.dispose();
    await t?.dispose();
  });

  const csrNaming = (san: string) =>
    opensslCsr(dir, "p256", "/CN=meter", ["-addext", `subjectAltName=${san}`]);

  // Was a defect: an unbound certificate carries a registered device's URN (device_id NULL in its row).
  test("an unbound request that names a registered device by its URN is refused or loses the URN", async () => {
    const csr = await csrNaming(`URI:${urn(globex.id)}`);
    const result = await outcome(t.app.authority.issue({ csr }));
    if ("refused" in result) return expect(result.refused).toMatch(refusal);
    // Today: the certificate says it is globex's device, and the registry finds no certificate of that device.
    const listed = await t.app.authority.certificates({ deviceId: globex.id });
    expect({ names: uris(result.der), listedForDevice: listed.items.length }).toEqual({
      names: [],
      listedForDevice: 0,
    });
  });

  // Was a defect: bound to acme, the certificate also names globex's device.
  test("a certificate bound to device A does not also name device B", async () => {
    const csr = await csrNaming(`URI:${urn(globex.id)}`);
    const result = await outcome(t.app.devices.issue({ csr, deviceId: acme.id }, systemCaller));
    if ("refused" in result) return expect(result.refused).toMatch(refusal);
    expect(uris(result.der)).toEqual([`URI:${urn(acme.id)}`]);
  });

  // Was a defect: RFC 8141 §3.1: "urn" and the NID are case-insensitive, so this is globex's URN too;
  // a fix that compares the prefix case-sensitively would let it through.
  test("the URN's scheme and namespace are matched without regard to case (RFC 8141 §3.1)", async () => {
    const csr = await csrNaming(`URI:URN:KeyFleet:device:${globex.id}`);
    const result = await outcome(t.app.devices.issue({ csr, deviceId: acme.id }, systemCaller));
    if ("refused" in result) return expect(result.refused).toMatch(refusal);
    expect(uris(result.der)).toEqual([`URI:${urn(acme.id)}`]);
  });

  // Was a defect: the tenant scope keeps acme's operator from issuing for globex's device (404), yet the
  // same operator mints a certificate that names globex's device by asking for it in the CSR.
  test("a tenant-scoped token cannot mint a certificate naming another tenant's device", async () => {
    const csr = await csrNaming(`URI:${urn(globex.id)}`);
    const res = await http.inject({
      method: "POST",
      url: "/api/v1/certificates",
      payload: { csr, deviceId: acme.id },
      headers: { authorization: `Bearer ${acmeOperator}` },
    });
    if (res.statusCode !== 201) return expect(res.json().code).toMatch(refusal);
    const der = new Uint8Array(Buffer.from(res.json().pem.replace(/-----[^-]+-----|\s/g, ""), "base64"));
    expect(uris(der)).toEqual([`URI:${urn(acme.id)}`]);
  });

  // Was a defect: the subject says the registry's serial, the RFC 4108 hardwareModuleName the CSR's
  // (another device's): two hardware identities in one certificate, one of them unchecked.
  test("a bound certificate's hardwareModuleName, if any, is the registry's serial", async () => {
    const hwSerial = Buffer.from(globex.serialNumber).toString("hex");
    const config = await dir.write(
      "hmn.cnf",
      `[req]\ndistinguished_name = dn\n[dn]\n[hwmn]\nhwType = OID:1.3.6.1.4.1.99999.1\nhwSerialNum = FORMAT:HEX,OCTETSTRING:${hwSerial}\n`,
    );
    const csr = await opensslCsr(dir, "p256", "/CN=meter", [
      "-config",
      config,
      "-addext",
      "subjectAltName=otherName:1.3.6.1.5.5.7.8.4;SEQUENCE:hwmn",
    ]);
    const result = await outcome(t.app.devices.issue({ csr, deviceId: acme.id }, systemCaller));
    if ("refused" in result) return expect(result.refused).toMatch(refusal);
    const hardwareSerials = sans(result.der)
      .filter((n) => n.startsWith("otherName:1.3.6.1.5.5.7.8.4:"))
      .map((n) => Buffer.from(n.split(":").pop()!, "hex").toString());
    expect(hardwareSerials.filter((s) => s !== acme.serialNumber)).toEqual([]);
  });
});
