/**
 * Every bound of limits.ts, at the CSR parser: a request one past a bound is refused (before the
 * work the bound protects), one at the bound is read, and no refusal echoes unbounded input. Each
 * over-limit request here is one the parser read in full before the bounds (issue 13, defect 3).
 */
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { beforeAll, describe, expect, test } from "vitest";
import { isKeyfleetError } from "../domain/index.js";
import { checkCsr } from "./csr-check.js";
import { parseCsr } from "./csr.js";
import { contextPrimitive, derNull, octetString, oid, sequence, set, tlv } from "./der.js";
import { extension } from "./extensions.js";
import { limits } from "./limits.js";
import { encodeName } from "./name.js";
import { oid as oids } from "./oids.js";
import { derOrPem, toPem } from "./pem.js";
import { profiles } from "./profiles.js";
import { challengePassword, extensionRequest, signedCsr, type CsrParts } from "./test-csr.js";

let key: { privateKey: KeyObject; publicKey: KeyObject };
let spki: Uint8Array;
beforeAll(() => {
  key = generateKeyPairSync("ec", { namedCurve: "P-256" });
  spki = new Uint8Array(key.publicKey.export({ format: "der", type: "spki" }));
});

/** A CSR with a real proof of possession, so that only the bound under test can refuse it. */
const csr = (parts: Omit<CsrParts, "spki" | "signatureAlgorithm" | "sign">): Uint8Array =>
  signedCsr(key.privateKey, "ecdsa-sha256", { spki, ...parts });

function refusal(f: () => unknown): { code: string; message: string } | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (!isKeyfleetError(e)) throw e;
    return { code: e.code, message: e.message };
  }
}

/** Refused with `code` and a message matching `message`, short whatever the input's size. */
function expectRefused(der: Uint8Array, code: string, message: RegExp): void {
  const r = refusal(() => parseCsr(der));
  expect(r?.code, r?.message).toBe(code);
  expect(r!.message).toMatch(message);
  expect(r!.message.length).toBeLessThan(200);
}

const arcOf = (octets: number): number[] => [...new Array<number>(octets - 1).fill(0x81), 0x01];
/** OBJECT IDENTIFIER 1.3.6.1.4.1.99999 followed by `tail` (raw subidentifier octets). */
const oidWithTail = (tail: readonly number[]): Uint8Array =>
  tlv(0x06, Uint8Array.of(0x2b, 0x06, 0x01, 0x04, 0x01, 0x86, 0x8d, 0x1f, ...tail));
/** An attribute Keyfleet ignores, of type `type` (an OID TLV). */
const unknownAttribute = (type: Uint8Array): Uint8Array => sequence(type, set(derNull));

describe("OIDs", () => {
  test("one arc of 45 KB (the probe's request): refused on its size, with a short message", () => {
    const der = csr({ attributes: [unknownAttribute(oidWithTail(arcOf(45_000)))] });
    expect(der.length).toBeGreaterThan(limits.csrOctets);
    expectRefused(der, "malformed-request", /^the CSR: \d+ octets; Keyfleet reads CSRs of at most 32768$/);
  });

  test("one arc of 30 KB, inside the size limit: refused before it becomes a number", () => {
    const der = csr({ attributes: [unknownAttribute(oidWithTail(arcOf(30_000)))] });
    expect(der.length).toBeLessThan(limits.csrOctets);
    expectRefused(der, "malformed-request", /OBJECT IDENTIFIER of 30008 octets \(at most 100 are read\)/);
  });

  test("an arc of 19 octets (a 128-bit UUID arc, X.667) is read; 20 octets are refused", () => {
    const uuidArc = [0x83, ...new Array<number>(17).fill(0xff), 0x7f]; // 2^128 − 1
    expect(
      refusal(() => parseCsr(csr({ attributes: [unknownAttribute(oidWithTail(uuidArc))] }))),
    ).toBeUndefined();
    expectRefused(
      csr({ attributes: [unknownAttribute(oidWithTail(arcOf(20)))] }),
      "malformed-request",
      /arc of 20 octets \(at most 19\)/,
    );
  });

  test("an OID of 100 octets is read; 101 are refused", () => {
    const tail = (n: number) => new Array<number>(n - 8).fill(0x01);
    expect(
      refusal(() => parseCsr(csr({ attributes: [unknownAttribute(oidWithTail(tail(100)))] }))),
    ).toBeUndefined();
    expectRefused(
      csr({ attributes: [unknownAttribute(oidWithTail(tail(101)))] }),
      "malformed-request",
      /OBJECT IDENTIFIER of 101 octets/,
    );
  });

  test("an OID quoted back in a refusal is cut short", () => {
    const longOid = oidWithTail(new Array<number>(92).fill(0x7f)); // 1.3.6.1.4.1.99999.127.127…: 380 characters
    const der = csr({
      attributes: [extensionRequest(sequence(longOid, tlv(0x01, Uint8Array.of(0xff)), octetString(derNull)))],
    });
    const r = refusal(() => checkCsr(parseCsr(der), profiles.device));
    expect(r?.code).toBe("forbidden-extension");
    expect(r!.message).toMatch(
      /^the CSR requests extension "1\.3\.6\.1\.4\.1\.99999\.127\.127[.\d]*…" as critical/,
    );
    expect(r!.message.length).toBeLessThan(200);
  });
});

describe("counts", () => {
  const attributes = (n: number) =>
    Array.from({ length: n }, (_, i) => unknownAttribute(oid(`1.3.6.1.4.1.99999.${i}`)));
  const extensions = (n: number) =>
    Array.from({ length: n }, (_, i) => extension(`1.3.6.1.4.1.99999.${i}`, false, derNull));
  const rdns = (n: number) =>
    encodeName(Array.from({ length: n }, (_, i) => ({ type: "OU" as const, value: `unit-${i}` })));
  const dnsNames = (n: number) =>
    Array.from({ length: n }, (_, i) => contextPrimitive(2, Buffer.from(`d${i}.example`)));
  const sanRequest = (names: Uint8Array[]) =>
    extensionRequest(extension(oids.subjectAltName, false, sequence(...names)));

  test.each([
    [
      "attributes",
      (n: number) => csr({ attributes: attributes(n) }),
      limits.csrAttributes,
      /more than 16 attributes/,
    ],
    [
      "requested extensions",
      (n: number) => csr({ attributes: [extensionRequest(...extensions(n))] }),
      limits.extensions,
      /more than 32 extensions/,
    ],
    ["RDNs in the subject", (n: number) => csr({ subject: rdns(n) }), limits.rdns, /more than 16 RDNs/],
    [
      "subject alternative names",
      (n: number) => csr({ attributes: [sanRequest(dnsNames(n))] }),
      limits.sans,
      /more than 100 subject alternative names/,
    ],
  ] as const)("%s: the limit is read, one more is refused", (_, build, limit, message) => {
    expect(refusal(() => parseCsr(build(limit)))).toBeUndefined();
    expectRefused(build(limit + 1), "malformed-request", message);
  });
});

describe("lengths", () => {
  const san = (tagNumber: number, value: Uint8Array) =>
    extensionRequest(extension(oids.subjectAltName, false, sequence(contextPrimitive(tagNumber, value))));
  const ascii = (n: number, fill = "a") => Uint8Array.from(Buffer.from(fill.repeat(n)));
  const hmn = (serialOctets: number) =>
    extensionRequest(
      extension(
        oids.subjectAltName,
        false,
        sequence(
          tlv(
            0xa0,
            oid(oids.hardwareModuleName),
            tlv(0xa0, sequence(oid("1.3.6.1.4.1.99999.1"), octetString(new Uint8Array(serialOctets)))),
          ),
        ),
      ),
    );

  test.each([
    ["a dNSName", (n: number) => san(2, ascii(n)), limits.san.dns, /dNSName longer than 253 octets/],
    ["an rfc822Name", (n: number) => san(1, ascii(n)), limits.san.email, /rfc822Name longer than 254 octets/],
    [
      "a uniformResourceIdentifier",
      (n: number) => san(6, ascii(n)),
      limits.san.uri,
      /uniformResourceIdentifier longer than 2048 octets/,
    ],
    ["a hwSerialNum", hmn, limits.san.hwSerialNum, /hwSerialNum longer than 64 octets/],
  ] as const)("%s: the limit is read, one octet more is refused", (_, attribute, limit, message) => {
    expect(refusal(() => parseCsr(csr({ attributes: [attribute(limit)] })))).toBeUndefined();
    expectRefused(csr({ attributes: [attribute(limit + 1)] }), "malformed-request", message);
  });

  test("a subject CN longer than 64 characters in any encoding is refused before it is decoded", () => {
    const cn = (value: Uint8Array) => sequence(set(sequence(oid("2.5.4.3"), tlv(0x0c, value))));
    // 64 four-octet characters are 256 octets: read (checkName counts characters, and passes them).
    expect(
      refusal(() => parseCsr(csr({ subject: cn(Uint8Array.from(Buffer.from("😀".repeat(64)))) }))),
    ).toBeUndefined();
    expectRefused(
      csr({ subject: cn(ascii(257)) }),
      "profile-violation",
      /subject CN is longer than 64 characters/,
    );
    expectRefused(
      csr({ subject: cn(ascii(20_000)) }),
      "profile-violation",
      /subject CN is longer than 64 characters/,
    );
  });

  test("a challengePassword of 255 characters is read, 256 are refused (RFC 2985 ub-challengePassword)", () => {
    expect(
      parseCsr(csr({ attributes: [challengePassword("p".repeat(255))] })).challengePassword,
    ).toHaveLength(255);
    expectRefused(
      csr({ attributes: [challengePassword("p".repeat(256))] }),
      "malformed-request",
      /longer than 255/,
    );
    expectRefused(
      csr({ attributes: [challengePassword("p".repeat(10_000))] }),
      "malformed-request",
      /longer than 255 characters/,
    );
  });

  test("a whole CSR: 32 KiB is read, one octet more is refused before anything else", () => {
    const padded = (total: number): Uint8Array => {
      let pad = total - csr({ attributes: [unknownAttribute(oid("1.3.6.1.4.1.99999.9"))] }).length - 4;
      for (;;) {
        const der = csr({
          attributes: [sequence(oid("1.3.6.1.4.1.99999.9"), set(octetString(new Uint8Array(pad))))],
        });
        if (der.length === total) return der;
        pad += total - der.length;
      }
    };
    expect(refusal(() => parseCsr(padded(limits.csrOctets)))).toBeUndefined();
    expectRefused(
      padded(limits.csrOctets + 1),
      "malformed-request",
      /32769 octets; Keyfleet reads CSRs of at most 32768/,
    );
  });
});

describe("PEM", () => {
  test("a CSR's PEM (64-character lines, CRLF) at the DER limit is read; text past 64 Ki characters is refused", () => {
    const der = new Uint8Array(limits.csrOctets).fill(0x41);
    const pem = toPem("CERTIFICATE REQUEST", der).replace(/\n/g, "\r\n");
    expect(pem.length).toBeLessThan(limits.pemCharacters);
    expect(derOrPem(pem, "CERTIFICATE REQUEST")).toEqual(der);
    const long = `${pem}${" ".repeat(limits.pemCharacters - pem.length + 1)}`;
    const r = refusal(() => derOrPem(long, "CERTIFICATE REQUEST"));
    expect(r).toEqual({
      code: "malformed-request",
      message: "a CERTIFICATE REQUEST in PEM is at most 65536 characters; this one has 65537",
    });
    expect(refusal(() => derOrPem(Buffer.from(long), "CERTIFICATE REQUEST"))?.message).toMatch(
      /at most 65536/,
    );
  });

  test("64 Ki characters of BEGIN lines without an END are refused in linear time (it was 0.26 s)", () => {
    const text = "-----BEGIN A-----".repeat(Math.floor(limits.pemCharacters / 17));
    const started = performance.now();
    expect(refusal(() => derOrPem(text, "CERTIFICATE REQUEST"))?.code).toBe("malformed-request");
    expect(refusal(() => derOrPem("-----BEGIN ".repeat(5900), "CERTIFICATE REQUEST"))?.code).toBe(
      "malformed-request",
    );
    // ≈ 1 ms here; the regex it replaces took 230–260 ms for each. A wide margin for a loaded machine.
    expect(performance.now() - started).toBeLessThan(100);
  });

  test("a label quoted back in a refusal is cut short", () => {
    const label = "A".repeat(5000);
    const r = refusal(() =>
      derOrPem(`-----BEGIN ${label}-----\nAAAA\n-----END B-----\n`, "CERTIFICATE REQUEST"),
    );
    expect(r?.code).toBe("malformed-request");
    expect(r!.message.length).toBeLessThan(200);
  });
});
