/**
 * How compileIssuer reads a CA certificate it did not write itself: variants of a real issuing CA
 * certificate, re-encoded with other extensions or fields (the signature is not checked here, so
 * the original one is kept).
 */
import { beforeAll, describe, expect, test } from "vitest";
import { isKeyfleetError } from "../domain/index.js";
import {
  bitString,
  boolean,
  concat,
  contextPrimitive,
  explicit,
  octetString,
  sequence,
  smallInteger,
  tag,
  time,
  tlv,
} from "./der.js";
import { children, raw, readOnly } from "./der-reader.js";
import { basicConstraints, extension, keyUsage, subjectKeyIdentifier } from "./extensions.js";
import { compileIssuer } from "./issuer-template.js";
import { oid } from "./oids.js";
import { testChain, type TestChain } from "./test-chain.js";

let chain: TestChain;
beforeAll(async () => {
  chain = await testChain("p256", {
    notBefore: new Date("2026-01-01T00:00:00Z"),
    rootNotAfter: new Date("2045-01-01T00:00:00Z"),
    issuingNotAfter: new Date("2035-01-01T00:00:00Z"),
  });
});

/** The issuing CA certificate with its tbsCertificate fields replaced by `edit`. */
function rewritten(edit: (fields: Uint8Array[]) => Uint8Array[]): Uint8Array {
  const what = "test certificate";
  const [tbs, alg, sig] = children(readOnly(chain.issuing.der, tag.sequence, what), what);
  const fields = children(tbs!, what).map((f) => raw(f).slice());
  return sequence(sequence(...edit(fields)), raw(alg!), raw(sig!));
}

const isExtensions = (f: Uint8Array): boolean => f[0] === 0xa3;

/** The issuing CA certificate with exactly these extensions (none: no [3] at all). */
const withExtensions = (...extensions: Uint8Array[]): Uint8Array =>
  rewritten((fields) => [
    ...fields.filter((f) => !isExtensions(f)),
    ...(extensions.length ? [explicit(3, sequence(...extensions))] : []),
  ]);

const ca = basicConstraints(true, 0);
const caUsage = keyUsage(["keyCertSign", "cRLSign"]);

function compile(certificate: Uint8Array) {
  return compileIssuer({ certificate, signer: chain.issuing.key.signer });
}

function refusal(certificate: Uint8Array): string {
  try {
    compile(certificate);
  } catch (e) {
    expect(isKeyfleetError(e, "invalid-configuration"), String(e)).toBe(true);
    return (e as Error).message;
  }
  return expect.fail("compileIssuer accepted the certificate");
}

const notCa = "the issuer certificate is not a CA certificate (basicConstraints cA)";
const noParse = "the CA certificate does not parse as X.509 DER";

describe("compileIssuer reads the CA certificate", () => {
  test("takes the SKI as its key identifier, whatever its method", () => {
    const ski = Uint8Array.from({ length: 8 }, (_, i) => i + 1);
    const t = compile(withExtensions(ca, caUsage, subjectKeyIdentifier(ski)));
    expect(Buffer.from(t.keyIdentifier).toString("hex")).toBe("0102030405060708");
    expect(Buffer.from(t.authorityKeyIdentifierExtension).toString("hex")).toContain("80080102030405060708");
  });

  test("without an SKI, derives the key identifier from the public key (RFC 7093 §2 method 1)", () => {
    const t = compile(withExtensions(ca, caUsage));
    expect(Buffer.from(t.keyIdentifier)).toEqual(Buffer.from(chain.issuing.issuer.keyIdentifier));
  });

  test("reads pathLenConstraint, and none as no limit; accepts a CA without keyUsage", () => {
    expect(compile(withExtensions(basicConstraints(true, 3), caUsage)).pathLength).toBe(3);
    expect(compile(withExtensions(basicConstraints(true))).pathLength).toBeUndefined();
  });

  test("skips extensions it does not know, and the optional unique identifiers", () => {
    const unknown = extension("1.3.6.1.4.1.99999.1", false, octetString(Uint8Array.of(1)));
    const uniqueIds = [
      contextPrimitive(1, Uint8Array.of(0, 0xaa)),
      contextPrimitive(2, Uint8Array.of(0, 0xbb)),
    ];
    const cert = rewritten((fields) => {
      const ext = fields.findIndex(isExtensions);
      return [...fields.slice(0, ext), ...uniqueIds, explicit(3, sequence(unknown, ca, caUsage))];
    });
    const t = compile(cert);
    expect(t.pathLength).toBe(0);
    expect(t.subject).toEqual(chain.issuing.subject);
  });

  test("reads notAfter as GeneralizedTime too (years from 2050, RFC 5280 §4.1.2.5)", () => {
    const notAfter = new Date("2051-02-03T04:05:06Z");
    const cert = rewritten((fields) =>
      fields.map((f) =>
        isValidity(f) ? sequence(time(new Date("2026-01-01T00:00:00Z")), time(notAfter)) : f,
      ),
    );
    expect(compile(cert).notAfter.toISOString()).toBe(notAfter.toISOString());
  });

  test("refuses a certificate whose basicConstraints is absent or says cA FALSE", () => {
    expect(refusal(withExtensions(caUsage))).toBe(notCa);
    expect(refusal(withExtensions(basicConstraints(false), caUsage))).toBe(notCa);
    const explicitFalse = extension(oid.basicConstraints, true, sequence(boolean(false)));
    expect(refusal(withExtensions(explicitFalse, caUsage))).toBe(notCa);
    expect(refusal(withExtensions())).toBe(notCa);
  });

  test("refuses a keyUsage without keyCertSign (RFC 5280 §4.2.1.3)", () => {
    const message = "the issuer certificate's keyUsage lacks keyCertSign";
    expect(refusal(withExtensions(ca, keyUsage(["digitalSignature", "cRLSign"])))).toBe(message);
    const empty = extension(oid.keyUsage, true, bitString(new Uint8Array(0)));
    expect(refusal(withExtensions(ca, empty))).toBe(message);
  });

  const bc = (value: Uint8Array) => extension(oid.basicConstraints, true, value);
  const ku = (value: Uint8Array) => extension(oid.keyUsage, true, value);
  const unknownOid = tlv(tag.oid, Uint8Array.of(0x2b, 0x06, 0x01, 0x04, 0x01)); // 1.3.6.1.4.1

  test("refuses malformed extensions as a certificate that does not parse", () => {
    const cases: [string, Uint8Array][] = [
      ["basicConstraints not a SEQUENCE", withExtensions(bc(boolean(true)), caUsage)],
      ["pathLen not an INTEGER", withExtensions(bc(sequence(boolean(true), octetString(Uint8Array.of(0)))))],
      ["keyUsage not a BIT STRING", withExtensions(ca, ku(octetString(Uint8Array.of(0x06))))],
      [
        "SKI not an OCTET STRING",
        withExtensions(ca, extension(oid.subjectKeyIdentifier, false, bitString(Uint8Array.of(1)))),
      ],
      ["extnValue not an OCTET STRING", withExtensions(ca, sequence(unknownOid, sequence()))],
      ["Extension without a value", withExtensions(ca, sequence(unknownOid))],
      [
        "critical not a BOOLEAN",
        withExtensions(ca, sequence(unknownOid, smallInteger(1), octetString(sequence()))),
      ],
      [
        "Extensions not a SEQUENCE",
        rewritten((fields) => [...fields.filter((f) => !isExtensions(f)), explicit(3, ca)]),
      ],
    ];
    for (const [name, cert] of cases) expect(refusal(cert), name).toBe(noParse);
  });

  // The BER parser used before (asn1js) let these through; DER (X.690 §11) and RFC 5280 do not.
  // A negative pathLen in particular read as -1, which the pathLen-0 check does not catch.
  test("refuses extensions that are BER but not DER, or not RFC 5280, with the same error", () => {
    const cases: [string, Uint8Array][] = [
      ["cA BOOLEAN 0x01", withExtensions(bc(sequence(Uint8Array.of(tag.boolean, 1, 1))), caUsage)],
      ["negative pathLen", withExtensions(bc(sequence(boolean(true), Uint8Array.of(tag.integer, 1, 0xff))))],
      [
        "basicConstraints with a third field",
        withExtensions(bc(sequence(boolean(true), smallInteger(0), smallInteger(0)))),
      ],
      [
        "basicConstraints with trailing bytes",
        withExtensions(bc(concat([sequence(boolean(true)), Uint8Array.of(0, 0)]))),
      ],
      ["keyUsage with non-zero unused bits", withExtensions(ca, ku(bitString(Uint8Array.of(0x07), 1)))],
      ["basicConstraints twice (RFC 5280 §4.2)", withExtensions(ca, caUsage, basicConstraints(true))],
      ["a field after the extensions", rewritten((fields) => [...fields, smallInteger(1)])],
    ];
    for (const [name, cert] of cases) expect(refusal(cert), name).toBe(noParse);
  });

  test("refuses a tbsCertificate with a field missing or out of order, or trailing bytes", () => {
    expect(refusal(rewritten((fields) => fields.slice(0, 6)))).toBe(noParse);
    expect(refusal(rewritten((fields) => [fields[0]!, fields[2]!, fields[1]!, ...fields.slice(3)]))).toBe(
      noParse,
    );
    expect(refusal(concat([chain.issuing.der, Uint8Array.of(0)]))).toBe(noParse);
  });
});

function isValidity(f: Uint8Array): boolean {
  if (f[0] !== tag.sequence) return false;
  const inner = children(readOnly(f, tag.sequence, "v"), "v");
  return inner.length === 2 && inner.every((t) => t.tag === tag.utcTime || t.tag === tag.generalizedTime);
}
