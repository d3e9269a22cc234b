/**
 * The OCSP codec against openssl and @peculiar/asn1-ocsp: requests `openssl ocsp -reqout` writes
 * (SHA-1 and SHA-256 CertIDs, with and without a nonce) read back right; responses we write parse
 * with asn1-ocsp (serialising the parse again gives our bytes) and `openssl ocsp -respin` verifies
 * them against the chain and prints good, revoked with its reason, and unknown. Hostile requests
 * are each refused as `malformed-request`.
 */
import { readFile } from "node:fs/promises";
import { AsnConvert } from "@peculiar/asn1-schema";
import {
  BasicOCSPResponse,
  OCSPResponse,
  OCSPResponseStatus,
  id_pkix_ocsp_basic,
  id_pkix_ocsp_nonce,
} from "@peculiar/asn1-ocsp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openssl, workdir, type Workdir } from "../../test/support/openssl.js";
import { isKeyfleetError } from "../domain/index.js";
import { writeCertificate } from "./certificate-writer.js";
import { derNull, explicit, integer, octetString, oid, sequence, smallInteger } from "./der.js";
import { decodeOcspGetPath } from "./ocsp-get.js";
import { ocspIssuerHashes } from "./ocsp-issuer.js";
import { readOcspRequest } from "./ocsp-request.js";
import {
  compileResponder,
  ocspStatusResponse,
  singleResponse,
  writeOcspResponse,
  type CertStatus,
} from "./ocsp-response.js";
import { oid as oids } from "./oids.js";
import { toPem } from "./pem.js";
import { profiles } from "./profiles.js";
import { newSerial } from "./serial.js";
import { testChain, type TestChain } from "./test-chain.js";
import { testSigner, type TestKey } from "./test-signer.js";

const now = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
const hours = (n: number): Date => new Date(now.getTime() + n * 3_600_000);

let dir: Workdir;
let chain: TestChain;
let responderKey: TestKey;
let responderDer: Uint8Array;
const leaves: Record<"good" | "revoked" | "unknown", Uint8Array> = {} as never;

beforeAll(async () => {
  dir = await workdir();
  chain = await testChain("p256", {
    notBefore: hours(-1),
    rootNotAfter: hours(24 * 3650),
    issuingNotAfter: hours(24 * 365),
  });
  const issue = async (cn: string, key: Uint8Array, profile = profiles.client) =>
    writeCertificate(chain.issuing.issuer, {
      serial: newSerial(),
      subject: [{ type: "CN", value: cn }],
      sans: [],
      subjectPublicKeyInfo: key,
      notBefore: hours(-1),
      notAfter: hours(24 * 30),
      profile,
    });
  for (const name of ["good", "revoked", "unknown"] as const) {
    leaves[name] = await issue(`leaf ${name}`, (await testSigner("p256")).signer.publicKey);
    await dir.write(`${name}.pem`, toPem("CERTIFICATE", leaves[name]));
  }
  responderKey = await testSigner("p256");
  responderDer = await issue("OCSP responder", responderKey.signer.publicKey, profiles["ocsp-responder"]);
  await dir.write("issuing.pem", toPem("CERTIFICATE", chain.issuing.der));
  await dir.write("root.pem", toPem("CERTIFICATE", chain.root.der));
}, 60_000);

afterAll(() => dir?.dispose());

function expectMalformed(f: () => unknown, message: RegExp): void {
  try {
    f();
  } catch (e) {
    expect(isKeyfleetError(e, "malformed-request"), String(e)).toBe(true);
    expect((e as Error).message).toMatch(message);
    return;
  }
  expect.fail("did not throw");
}

async function opensslRequest(leaf: string, ...flags: string[]): Promise<Uint8Array> {
  const out = dir.file(`${leaf}-${flags.join("")}.req`);
  await openssl([
    "ocsp",
    "-issuer",
    dir.file("issuing.pem"),
    ...flags, // before -cert: a digest flag applies to the CertIDs of the certificates after it
    "-cert",
    dir.file(`${leaf}.pem`),
    "-reqout",
    out,
  ]);
  return new Uint8Array(await readFile(out));
}

describe("requests openssl writes", () => {
  test("a SHA-1 CertID with a 16-octet nonce, matching the issuer's hashes", async () => {
    const request = readOcspRequest(await opensslRequest("good"));
    const hashes = ocspIssuerHashes(chain.issuing.der);
    expect(request.certIds).toHaveLength(1);
    const [id] = request.certIds;
    expect(id!.hashAlgorithm).toBe("sha1");
    expect(Buffer.from(id!.issuerNameHash)).toEqual(Buffer.from(hashes.sha1.nameHash));
    expect(Buffer.from(id!.issuerKeyHash)).toEqual(Buffer.from(hashes.sha1.keyHash));
    expect(Buffer.from(id!.serial).toString("hex")).toBe(await opensslSerial("good"));
    expect(request.nonce?.length).toBe(18); // OCTET STRING of 16 octets, as the extnValue
    expect(request.signed).toBe(false);
  });

  test("a SHA-256 CertID without a nonce", async () => {
    const request = readOcspRequest(await opensslRequest("good", "-sha256", "-no_nonce"));
    const hashes = ocspIssuerHashes(chain.issuing.der);
    expect(request.certIds[0]!.hashAlgorithm).toBe("sha256");
    expect(Buffer.from(request.certIds[0]!.issuerKeyHash)).toEqual(Buffer.from(hashes.sha256.keyHash));
    expect(request.nonce).toBeUndefined();
  });
});

/** The serial as openssl reads it from the certificate, lower-case hex. */
async function opensslSerial(name: keyof typeof leaves): Promise<string> {
  const { stdout } = await openssl(["x509", "-noout", "-serial", "-in", dir.file(`${name}.pem`)]);
  return stdout.trim().replace("serial=", "").toLowerCase();
}

const statuses: Record<keyof typeof leaves, CertStatus> = {
  good: { kind: "good" },
  revoked: { kind: "revoked", revokedAt: hours(-0.5), reason: "keyCompromise" },
  unknown: { kind: "unknown" },
};

describe("responses", () => {
  test.each(["good", "revoked", "unknown"] as const)(
    "a delegated %s response: asn1-ocsp reads it back byte for byte, openssl verifies it",
    async (name) => {
      const requestDer = await opensslRequest(name);
      const request = readOcspRequest(requestDer);
      const responder = compileResponder(responderKey.signer, [responderDer]);
      const der = await writeOcspResponse(responder, {
        producedAt: now,
        responses: [
          singleResponse({
            certId: request.certIds[0]!.der,
            status: statuses[name],
            thisUpdate: now,
            nextUpdate: hours(4),
          }),
        ],
        nonce: request.nonce,
      });
      const parsed = AsnConvert.parse(der, OCSPResponse);
      expect(parsed.responseStatus).toBe(OCSPResponseStatus.successful);
      expect(parsed.responseBytes!.responseType).toBe(id_pkix_ocsp_basic);
      const basic = AsnConvert.parse(parsed.responseBytes!.response, BasicOCSPResponse);
      expect(Buffer.from(AsnConvert.serialize(parsed))).toEqual(Buffer.from(der));
      const nonce = basic.tbsResponseData.responseExtensions!.find((e) => e.extnID === id_pkix_ocsp_nonce);
      expect(Buffer.from(nonce!.extnValue.buffer)).toEqual(Buffer.from(request.nonce!));
      expect(basic.certs).toHaveLength(1);

      await dir.write(`${name}.resp`, der);
      await dir.write(
        "chain.pem",
        toPem("CERTIFICATE", chain.issuing.der) + toPem("CERTIFICATE", chain.root.der),
      );
      // With the request it answers: openssl checks the nonce and the signature, and prints the status.
      await dir.write(`${name}.req`, requestDer);
      const { stdout, stderr } = await openssl([
        "ocsp",
        "-reqin",
        dir.file(`${name}.req`),
        "-respin",
        dir.file(`${name}.resp`),
        "-CAfile",
        dir.file("chain.pem"),
        "-resp_text",
      ]);
      expect(stderr).toMatch(/Response verify OK/);
      expect(stdout).toContain(`Cert Status: ${name}`);
      expect(stdout).toMatch(/Responder Id: [0-9A-F]{40}/);
      // By certificate: the summary line relying parties script against.
      const summary = await openssl([
        "ocsp",
        "-respin",
        dir.file(`${name}.resp`),
        "-issuer",
        dir.file("issuing.pem"),
        "-cert",
        dir.file(`${name}.pem`),
        "-CAfile",
        dir.file("chain.pem"),
        "-no_nonce",
      ]);
      expect(summary.stdout).toContain(`${dir.file(`${name}.pem`)}: ${name}`);
      if (name === "revoked") expect(stdout).toMatch(/Revocation Reason: keyCompromise/);
    },
    60_000,
  );

  test("a response the CA signs itself carries no certificates and verifies", async () => {
    const request = readOcspRequest(await opensslRequest("good", "-no_nonce"));
    const der = await writeOcspResponse(compileResponder(chain.issuing.key.signer, []), {
      producedAt: now,
      responses: [
        singleResponse({
          certId: request.certIds[0]!.der,
          status: statuses.good,
          thisUpdate: now,
          nextUpdate: hours(1),
        }),
      ],
    });
    const basic = AsnConvert.parse(
      AsnConvert.parse(der, OCSPResponse).responseBytes!.response,
      BasicOCSPResponse,
    );
    expect(basic.certs).toBeUndefined();
    expect(basic.tbsResponseData.responseExtensions).toBeUndefined();
    await dir.write("self.resp", der);
    await dir.write(
      "chain.pem",
      toPem("CERTIFICATE", chain.issuing.der) + toPem("CERTIFICATE", chain.root.der),
    );
    const { stderr } = await openssl([
      "ocsp",
      "-respin",
      dir.file("self.resp"),
      "-issuer",
      dir.file("issuing.pem"),
      "-cert",
      dir.file("good.pem"),
      "-CAfile",
      dir.file("chain.pem"),
    ]);
    expect(stderr).toMatch(/Response verify OK/);
  });

  test("unsuccessful statuses are the bare ENUMERATED (RFC 6960 §4.2.1)", () => {
    expect(Buffer.from(ocspStatusResponse("malformedRequest")).toString("hex")).toBe("30030a0101");
    expect(Buffer.from(ocspStatusResponse("unauthorized")).toString("hex")).toBe("30030a0106");
    expect(AsnConvert.parse(ocspStatusResponse("tryLater"), OCSPResponse).responseStatus).toBe(
      OCSPResponseStatus.tryLater,
    );
  });

  test("refuses a nextUpdate not after thisUpdate", () => {
    expect(() =>
      singleResponse({ certId: sequence(), status: statuses.good, thisUpdate: now, nextUpdate: now }),
    ).toThrow(/nextUpdate/);
  });
});

// Hand-built requests for the refusals openssl never sends.
const hashOf = (octets: number) => new Uint8Array(octets).fill(7);
const certId = (hashOid: string = oids.sha1, octets = 20, serial = Uint8Array.of(1, 2, 3)) =>
  sequence(
    sequence(oid(hashOid), derNull),
    octetString(hashOf(octets)),
    octetString(hashOf(octets)),
    integer(serial),
  );
const nonceExt = (n: number) =>
  sequence(oid(oids.ocspNonce), octetString(octetString(new Uint8Array(n).fill(9))));
const request = (ids: Uint8Array[], extra: Uint8Array[] = [], lead: Uint8Array[] = []) =>
  sequence(sequence(...lead, sequence(...ids.map((id) => sequence(id))), ...extra));

describe("hostile and unusual requests", () => {
  test("reads SHA-256 and parameterless AlgorithmIdentifiers, many CertIDs up to the limit", () => {
    const noParams = sequence(
      sequence(oid(oids.sha1)),
      octetString(hashOf(20)),
      octetString(hashOf(20)),
      integer(Uint8Array.of(5)),
    );
    const r = readOcspRequest(request([certId(oids.sha256, 32), noParams, ...Array(14).fill(certId())]));
    expect(r.certIds).toHaveLength(16);
    expect(r.certIds[0]!.hashAlgorithm).toBe("sha256");
  });

  test("accepts a signed request and ignores its signature", () => {
    const signature = explicit(0, sequence(sequence(oid(oids.ecdsaWithSha256)), Uint8Array.of(3, 2, 0, 0)));
    const der = sequence(sequence(sequence(sequence(certId()))), signature);
    expect(readOcspRequest(der).signed).toBe(true);
  });

  test.each([
    ["garbage", Uint8Array.from(Buffer.from("hello, world")), /expected tag|truncated/],
    ["an empty body", new Uint8Array(0), /truncated/],
    ["trailing bytes", Uint8Array.from([...request([certId()]), 0]), /trailing/],
    ["an oversize request", new Uint8Array(8 * 1024 + 1), /at most 8192/],
    ["an empty request list", request([]), /empty/],
    ["17 CertIDs", request(Array(17).fill(certId())), /more than 16 CertIDs/],
    ["an MD5 CertID", request([certId("1.2.840.113549.2.5", 16)]), /hash algorithm/],
    ["a short hash", request([certId(oids.sha1, 19)]), /20 octets/],
    ["a 21-octet serial", request([certId(oids.sha1, 20, new Uint8Array(21).fill(1))]), /20 octets/],
    ["version 2", request([certId()], [], [explicit(0, smallInteger(1))]), /version 2/],
    [
      "an empty nonce",
      request(
        [certId()],
        [explicit(2, sequence(sequence(oid(oids.ocspNonce), octetString(octetString(new Uint8Array(0))))))],
      ),
      /nonce of 0/,
    ],
    ["a 129-octet nonce", request([certId()], [explicit(2, sequence(nonceExt(129)))]), /nonce of 129/],
    [
      "a critical unknown extension",
      request(
        [certId()],
        [explicit(2, sequence(sequence(oid("1.2.3.4"), Uint8Array.of(1, 1, 0xff), octetString(derNull))))],
      ),
      /critical/,
    ],
  ])("refuses %s", (_name, der, message) => {
    expectMalformed(() => readOcspRequest(der), message);
  });

  test("accepts a 128-octet nonce", () => {
    expect(readOcspRequest(request([certId()], [explicit(2, sequence(nonceExt(128)))])).nonce?.length).toBe(
      131,
    );
  });
});

describe("GET paths (RFC 6960 App. A.1), decoded tolerantly", () => {
  const der = request([certId(oids.sha1, 20, Uint8Array.of(0xfb, 0xff, 0xbf))]);
  const b64 = Buffer.from(der).toString("base64");

  test("standard, percent-encoded, + as space, base64url, unpadded", () => {
    expect(b64).toMatch(/[+/]/); // the vector exercises both special characters
    for (const form of [
      b64,
      encodeURIComponent(b64),
      b64.replace(/\+/g, " "),
      b64.replace(/\+/g, "-").replace(/\//g, "_"),
      b64.replace(/=+$/, ""),
      encodeURIComponent(b64).replace(/%2F/g, "/"),
    ]) {
      expect(Buffer.from(decodeOcspGetPath(form))).toEqual(Buffer.from(der));
    }
  });

  test.each([
    ["not base64", "not*base64!", /not the base64/],
    ["bad percent-encoding", "%zz", /percent-encoding/],
    ["empty", "", /not the base64/],
    ["a lone final character", "AAAAA", /not the base64/],
    ["an endless path", "A".repeat(40_000), /characters long/],
  ])("refuses %s", (_name, path, message) => {
    expectMalformed(() => decodeOcspGetPath(path), message);
  });
});
