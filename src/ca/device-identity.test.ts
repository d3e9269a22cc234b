import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openssl, workdir, type Workdir } from "../../test/support/openssl.js";
import { idevidDer } from "./device-identity.js";

describe("idevidDer", () => {
  let dir: Workdir;
  let pem: string;
  let der: Uint8Array;
  beforeAll(async () => {
    dir = await workdir();
    await openssl([
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      dir.file("idevid.key"),
      "-subj",
      "/CN=idevid-0001/serialNumber=SN-0001",
      "-days",
      "1",
      "-out",
      dir.file("idevid.pem"),
    ]);
    pem = await dir.read("idevid.pem");
    der = new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64"));
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
    await openssl([
      "req",
      "-new",
      "-key",
      dir.file("idevid.key"),
      "-subj",
      "/CN=x",
      "-out",
      dir.file("r.csr"),
    ]);
    const csr = (await dir.read("r.csr")).replace(/CERTIFICATE REQUEST/g, "CERTIFICATE");
    expect(() => idevidDer(csr)).toThrow(expect.objectContaining({ code: "malformed-request" }));
  });
});
