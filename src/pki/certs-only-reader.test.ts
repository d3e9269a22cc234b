import { readFile } from "node:fs/promises";
import { ContentInfo, SignedData } from "@peculiar/asn1-cms";
import { AsnConvert } from "@peculiar/asn1-schema";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { estChain, type EstChain } from "../../test/support/est-chain.js";
import { openssl, workdir, type Workdir } from "../../test/support/openssl.js";
import { writeCsr } from "./csr-writer.js";
import { certificateNames } from "./certificate-names.js";
import { readCertsOnly } from "./certs-only-reader.js";
import { fromPem } from "./pem.js";
import { generateKeyPairSync } from "node:crypto";
import { softwareSigner } from "../crypto/index.js";

let dir: Workdir;
let chain: EstChain;
beforeAll(async () => {
  dir = await workdir();
  chain = await estChain(dir);
});
afterAll(async () => {
  await dir.dispose();
});

describe("certs-only CMS reader", () => {
  test("reads openssl crl2pkcs7 output: the certificates, byte for byte, in order", () => {
    const certificates = readCertsOnly(chain.chainPkcs7);
    const expected = fromPem(chain.chainPem, "CERTIFICATE");
    expect(certificates.map((c) => Buffer.from(c.der).toString("hex"))).toEqual(
      expected.map((c) => Buffer.from(c).toString("hex")),
    );
  });

  test("agrees with @peculiar/asn1-cms on what the message holds", () => {
    const info = AsnConvert.parse(chain.chainPkcs7, ContentInfo);
    const signed = AsnConvert.parse(info.content, SignedData);
    expect(signed.signerInfos).toHaveLength(0);
    const theirs = (signed.certificates ?? []).map((c) => Buffer.from(AsnConvert.serialize(c.certificate!)));
    expect(readCertsOnly(chain.chainPkcs7).map((c) => Buffer.from(c.der))).toEqual(theirs);
  });

  test("reads an issued certificate's names back for a re-enrollment", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const spki = new Uint8Array(publicKey.export({ format: "der", type: "spki" }));
    const signer = softwareSigner(
      { uri: "keyfleet-sealed:t", algorithm: "p256", publicKey: spki },
      privateKey,
    );
    const csr = await writeCsr(
      {
        subject: [{ type: "CN", value: "device-7" }],
        sans: [{ type: "dns", value: "device.fleet.example" }],
      },
      signer,
    );
    const { pkcs7 } = await chain.issue(csr);
    const [leaf, issuing] = readCertsOnly(pkcs7);
    expect(certificateNames(leaf!)).toEqual({
      subject: [{ type: "CN", value: "device-7" }],
      sans: [{ type: "dns", value: "device.fleet.example" }],
    });
    expect(certificateNames(issuing!)).toEqual({
      subject: [{ type: "CN", value: "Test Issuing CA" }],
      sans: [],
    });
  });

  test.each([
    ["a certificate, not a PKCS#7", () => fromPem(chain.rootPem)[0]!],
    ["a truncated message", () => chain.chainPkcs7.subarray(0, 100)],
    ["trailing bytes", () => Uint8Array.from([...chain.chainPkcs7, 0])],
  ])("refuses %s with malformed-request", (_, input) => {
    expect(() => readCertsOnly(input())).toThrow(expect.objectContaining({ code: "malformed-request" }));
  });

  test("refuses a PKCS#7 without certificates (openssl crl2pkcs7 with nothing)", async () => {
    await openssl(["crl2pkcs7", "-nocrl", "-outform", "DER", "-out", dir.file("empty.p7")]);
    const empty = new Uint8Array(await readFile(dir.file("empty.p7")));
    expect(() => readCertsOnly(empty)).toThrow(expect.objectContaining({ code: "malformed-request" }));
  });
});
