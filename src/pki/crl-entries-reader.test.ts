/**
 * The relying party's CRL reader against openssl: a CRL that `openssl ca -gencrl` signs, with
 * entries with and without a reason, reads back entry by entry with its number and times, and its
 * signature checks under the CA's key only; a CRL that does not parse is `malformed-request`.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openssl, workdir, type Workdir } from "../../test/support/openssl.js";
import { readCertificate } from "./certificate-reader.js";
import { readCrl, serialKey } from "./crl-entries-reader.js";
import { checkCrlSignature } from "./crl-reader.js";
import { fromPem } from "./pem.js";

let dir: Workdir;
let crlDer: Uint8Array;
let ca: ReturnType<typeof readCertificate>;

beforeAll(async () => {
  dir = await workdir();
  await openssl([
    ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"],
    ...[
      "-keyout",
      dir.file("ca.key"),
      "-out",
      dir.file("ca.pem"),
      "-subj",
      "/CN=Reader Test CA",
      "-days",
      "3",
    ],
  ]);
  await dir.write(
    "index.txt",
    [
      "R\t351231235959Z\t251201000000Z,keyCompromise\t0ABC\tunknown\t/CN=a",
      "R\t351231235959Z\t251202000000Z,superseded\tF00D\tunknown\t/CN=b",
      "R\t351231235959Z\t251203000000Z\t01\tunknown\t/CN=c",
      "V\t351231235959Z\t\t02\tunknown\t/CN=d",
      "",
    ].join("\n"),
  );
  await dir.write("crlnumber", "1A\n");
  await dir.write(
    "ca.cnf",
    `[ca]\ndefault_ca = d\n[d]\ndatabase = ${dir.file("index.txt")}\ncrlnumber = ${dir.file("crlnumber")}\ndefault_md = sha256\ndefault_crl_days = 7\n`,
  );
  await openssl([
    ...["ca", "-config", dir.file("ca.cnf"), "-gencrl", "-keyfile", dir.file("ca.key")],
    ...["-cert", dir.file("ca.pem"), "-out", dir.file("crl.pem")],
  ]);
  [crlDer] = fromPem(await dir.read("crl.pem"), "X509 CRL") as [Uint8Array];
  [ca] = fromPem(await dir.read("ca.pem"), "CERTIFICATE").map(readCertificate) as [typeof ca];
});
afterAll(async () => {
  await dir?.dispose();
});

describe("CRL entries reader", () => {
  test("reads openssl's CRL: issuer, number, times, and each entry with its reason", () => {
    const crl = readCrl(crlDer);
    expect(Buffer.from(crl.issuer).equals(Buffer.from(ca.subject))).toBe(true);
    expect(crl.number).toBe(0x1an);
    expect(crl.deltaOf).toBeUndefined();
    expect(crl.nextUpdate!.getTime() - crl.thisUpdate.getTime()).toBe(7 * 86_400_000);
    expect(Object.fromEntries(crl.entries)).toEqual({
      ABC: { revokedAt: new Date("2025-12-01T00:00:00Z"), reason: "keyCompromise" },
      F00D: { revokedAt: new Date("2025-12-02T00:00:00Z"), reason: "superseded" },
      "1": { revokedAt: new Date("2025-12-03T00:00:00Z"), reason: undefined },
    });
    expect(crl.entries.has(serialKey("0abc"))).toBe(true);
    expect(crl.entries.has(serialKey("02"))).toBe(false);
  });

  test("its signature checks under the CA's key and no other, and a changed byte fails it", () => {
    expect(checkCrlSignature(crlDer, ca.subjectPublicKeyInfo)).toBe("good");
    const tampered = Uint8Array.from(crlDer);
    tampered[tampered.length - 3]! ^= 0x01;
    expect(checkCrlSignature(tampered, ca.subjectPublicKeyInfo)).toBe("bad");
  });

  test.each([
    ["nothing", new Uint8Array(0)],
    ["text", new TextEncoder().encode("not a CRL")],
    ["a certificate", () => ca.der],
    ["a truncated CRL", () => crlDer.subarray(0, crlDer.length - 10)],
  ])("refuses %s as malformed-request", (_name, input) => {
    const bytes = typeof input === "function" ? input() : input;
    expect(() => readCrl(bytes)).toThrow(expect.objectContaining({ code: "malformed-request" }));
  });
});
