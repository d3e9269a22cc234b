import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { opensslCsr, opensslSelfSigned, workdir, type Workdir } from "../../test/support/openssl.js";
import { idevidDer } from "./device-identity.js";

describe("idevidDer", () => {
  let dir: Workdir;
  let pem: string;
  let der: Uint8Array;
  beforeAll(async () => {
    dir = await workdir();
    ({ pem, der } = await opensslSelfSigned(dir, "idevid", "/CN=idevid-0001/serialNumber=SN-0001"));
  });
  afterAll(() => dir.dispose());

  test("takes an openssl certificate as DER or PEM and returns its DER", () => {
    expect(idevidDer(der)).toEqual(der);
    expect(idevidDer(pem)).toEqual(der);
    expect(idevidDer(new TextEncoder().encode(pem))).toEqual(der);
  });

  test.each([
    ["bytes that only start like DER", () => new Uint8Array([0x30, ...Buffer.from("garbage")])],
    ["a truncated certificate", () => der.subarray(0, der.length - 5)],
  ])("refuses %s as malformed-request", (_name, input) => {
    expect(() => idevidDer(input())).toThrow(
      expect.objectContaining({
        code: "malformed-request",
        message: expect.stringMatching(/^the IDevID is not an X\.509 certificate/),
      }),
    );
  });

  test("refuses a certificate followed by trailing bytes", () => {
    const padded = new Uint8Array([...der, 0x05, 0x00]);
    expect(() => idevidDer(padded)).toThrow(
      expect.objectContaining({
        code: "malformed-request",
        message: expect.stringContaining("2 bytes after"),
      }),
    );
  });

  test("refuses a PEM block with a certificate request in it", async () => {
    const csr = (await opensslCsr(dir, "p256", "/CN=x")).replace(/CERTIFICATE REQUEST/g, "CERTIFICATE");
    expect(() => idevidDer(csr)).toThrow(expect.objectContaining({ code: "malformed-request" }));
  });
});
