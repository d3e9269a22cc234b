/**
 * Our strict CSR reader against @peculiar/asn1-csr on many generated requests: varied keys,
 * signature hashes, subject string types, SANs, extensions and attributes, and random mutations.
 */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import { CertificationRequest } from "@peculiar/asn1-csr";
import {
  BasicConstraints,
  Extensions,
  KeyUsage,
  KeyUsageFlags,
  SubjectAlternativeName,
  type GeneralName,
} from "@peculiar/asn1-x509";
import {
  BasicConstraintsExtension,
  ChallengePasswordAttribute,
  ExtendedKeyUsageExtension,
  Extension,
  KeyUsagesExtension,
  Name,
  Pkcs10CertificateRequestGenerator,
  SubjectAlternativeNameExtension,
} from "@peculiar/x509";
import { beforeAll, describe, expect, test } from "vitest";
import type { KeyAlgorithmId } from "../crypto/algorithms.js";
import { isKeyfleetError } from "../domain/index.js";
import { parseCsr, type ParsedCsr } from "./csr.js";
import { formatIp, parseIp } from "./ip.js";
import type { SanEntry } from "./san.js";

// A seeded generator (mulberry32), so a failure reproduces.
let seed = 0x5eed;
function rand(n: number): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) % n;
}
const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;
const maybe = (): boolean => rand(2) === 0;

const attributeTypes: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.5": "serialNumber",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "0.9.2342.19200300.100.1.25": "DC",
};

function randomSubject(): Record<string, unknown>[] {
  const pool: [string, () => unknown][] = [
    [
      "2.5.4.3",
      () =>
        pick([
          "device-1",
          "Zürich sensor",
          "東京-7",
          { utf8String: "plain" },
          { printableString: "Printable 1" },
        ]),
    ],
    ["2.5.4.10", () => pick(["Acme", "Société Générale", { utf8String: "Acme" }])],
    ["2.5.4.6", () => ({ printableString: pick(["DE", "FR", "JP"]) })],
    ["2.5.4.5", () => ({ printableString: `SN${rand(100000)}` })],
    ["2.5.4.11", () => "Sensors"],
    ["2.5.4.7", () => "Berlin"],
    ["0.9.2342.19200300.100.1.25", () => "example"],
  ];
  return pool.filter(() => maybe()).map(([oid, value]) => ({ [oid]: [value()] }));
}

function randomExtensions(): Extension[] {
  const out: Extension[] = [];
  if (maybe()) {
    const names = [
      { type: "dns", value: `d${rand(100)}.example.com` },
      { type: "ip", value: pick(["192.0.2.1", "2001:db8::1", "::1", "fe80::1:2"]) },
      { type: "url", value: `urn:keyfleet:device:${rand(1000)}` },
      { type: "email", value: "a@example.com" },
    ].filter(() => maybe());
    if (names.length) out.push(new SubjectAlternativeNameExtension(names as never, maybe()));
  }
  if (maybe()) out.push(new BasicConstraintsExtension(maybe(), maybe() ? rand(3) : undefined, maybe()));
  if (maybe())
    out.push(
      new KeyUsagesExtension(
        pick([
          KeyUsageFlags.digitalSignature,
          KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign,
          KeyUsageFlags.cRLSign,
          KeyUsageFlags.keyAgreement,
        ]),
        maybe(),
      ),
    );
  if (maybe()) out.push(new ExtendedKeyUsageExtension(["1.3.6.1.5.5.7.3.2"], false));
  if (maybe()) out.push(new Extension("1.3.6.1.4.1.99999.9", maybe(), Uint8Array.of(0x05, 0x00)));
  return out;
}

const keyParams: Record<
  Exclude<KeyAlgorithmId, "rsa4096">,
  { gen: EcKeyGenParams | Algorithm | RsaHashedKeyGenParams; sign: () => Algorithm }
> = {
  p256: {
    gen: { name: "ECDSA", namedCurve: "P-256" } as EcKeyGenParams,
    sign: () => ({ name: "ECDSA", hash: pick(["SHA-256", "SHA-384", "SHA-512"]) }) as Algorithm,
  },
  p384: {
    gen: { name: "ECDSA", namedCurve: "P-384" } as EcKeyGenParams,
    sign: () => ({ name: "ECDSA", hash: pick(["SHA-256", "SHA-384"]) }) as Algorithm,
  },
  ed25519: { gen: { name: "Ed25519" }, sign: () => ({ name: "Ed25519" }) },
  rsa2048: {
    gen: {
      name: "RSASSA-PKCS1-v1_5",
      hash: "SHA-256",
      modulusLength: 2048,
      publicExponent: Uint8Array.of(1, 0, 1),
    } as RsaHashedKeyGenParams,
    sign: () => ({ name: "RSASSA-PKCS1-v1_5" }),
  },
  rsa3072: {
    gen: {
      name: "RSASSA-PKCS1-v1_5",
      hash: "SHA-256",
      modulusLength: 3072,
      publicExponent: Uint8Array.of(1, 0, 1),
    } as RsaHashedKeyGenParams,
    sign: () => ({ name: "RSASSA-PKCS1-v1_5" }),
  },
};

interface Sample {
  readonly der: Uint8Array;
  readonly keyAlgorithm: KeyAlgorithmId;
  readonly challengePassword?: string;
}

const samples: Sample[] = [];
beforeAll(async () => {
  const keys = new Map<string, CryptoKeyPair>();
  for (const [id, p] of Object.entries(keyParams)) {
    keys.set(
      id,
      (await webcrypto.subtle.generateKey(p.gen as never, true, ["sign", "verify"])) as CryptoKeyPair,
    );
  }
  for (let i = 0; i < 80; i++) {
    const keyAlgorithm = pick(["p256", "p256", "p384", "ed25519", "rsa2048", "rsa3072"] as const);
    const challengePassword = maybe() ? `nonce-${rand(1_000_000)}` : undefined;
    const csr = await Pkcs10CertificateRequestGenerator.create({
      name: new Name(randomSubject() as never),
      keys: keys.get(keyAlgorithm)!,
      signingAlgorithm: keyParams[keyAlgorithm].sign(),
      extensions: randomExtensions(),
      attributes: challengePassword ? [new ChallengePasswordAttribute(challengePassword)] : [],
    });
    samples.push({
      der: new Uint8Array(csr.rawData),
      keyAlgorithm,
      ...(challengePassword ? { challengePassword } : {}),
    });
  }
}, 120_000);

const hex = (b: ArrayBuffer | Uint8Array): string =>
  Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString("hex");

function sanOf(n: GeneralName): SanEntry {
  if (n.dNSName !== undefined) return { type: "dns", value: n.dNSName };
  if (n.iPAddress !== undefined) return { type: "ip", value: formatIp(parseIp(n.iPAddress)!) };
  if (n.uniformResourceIdentifier !== undefined) return { type: "uri", value: n.uniformResourceIdentifier };
  if (n.rfc822Name !== undefined) return { type: "email", value: n.rfc822Name };
  throw new Error("unexpected GeneralName in a generated CSR");
}

/** What asn1-csr says the request contains, in our shape. */
function theirView(der: Uint8Array): Omit<ParsedCsr, "der" | "keyAlgorithm" | "challengePassword"> {
  const info = AsnConvert.parse(der, CertificationRequest).certificationRequestInfo;
  const extAttr = info.attributes.find((a) => a.type === "1.2.840.113549.1.9.14");
  const extensions = extAttr ? AsnConvert.parse(extAttr.values[0]!, Extensions) : [];
  const value = (oid: string) => extensions.find((e) => e.extnID === oid)?.extnValue.buffer;
  const bc = value("2.5.29.19");
  const ku = value("2.5.29.15");
  const san = value("2.5.29.17");
  const kuFlags = ku ? AsnConvert.parse(ku, KeyUsage).toNumber() : 0;
  return {
    subject: info.subject.map((rdn) => ({
      type: attributeTypes[rdn[0]!.type] as never,
      value: rdn[0]!.value.toString(),
    })),
    requestInfo: new Uint8Array(AsnConvert.serialize(info)),
    subjectPublicKeyInfo: new Uint8Array(AsnConvert.serialize(info.subjectPKInfo)),
    sans: san ? AsnConvert.parse(san, SubjectAlternativeName).map(sanOf) : [],
    requestedExtensions: extensions.map((e) => ({ oid: e.extnID, critical: e.critical })),
    requestsCa:
      (bc ? AsnConvert.parse(bc, BasicConstraints).cA : false) ||
      (kuFlags & (KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign)) !== 0,
  };
}

describe("parseCsr agrees with @peculiar/asn1-csr", () => {
  test("on 80 generated requests", () => {
    expect(samples).toHaveLength(80);
    for (const sample of samples) {
      const ours = parseCsr(sample.der);
      const theirs = theirView(sample.der);
      expect(ours.keyAlgorithm).toBe(sample.keyAlgorithm);
      expect(ours.challengePassword).toBe(sample.challengePassword);
      expect({ ...ours, subjectPublicKeyInfo: hex(ours.subjectPublicKeyInfo) }).toMatchObject({
        ...theirs,
        subjectPublicKeyInfo: hex(theirs.subjectPublicKeyInfo),
      });
    }
  });

  test("on 3,000 single-byte mutations: we never crash, and whatever we accept asn1-csr reads the same way", () => {
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      const sample = samples[i % samples.length]!;
      const mutated = sample.der.slice();
      mutated[rand(mutated.length)] = rand(256);
      let ours: ParsedCsr | undefined;
      try {
        ours = parseCsr(mutated);
      } catch (e) {
        expect(isKeyfleetError(e), String(e)).toBe(true);
        continue;
      }
      accepted++;
      const theirs = theirView(mutated);
      expect(hex(ours.subjectPublicKeyInfo)).toBe(hex(theirs.subjectPublicKeyInfo));
      expect(ours.sans).toEqual(theirs.sans);
    }
    expect(accepted).toBeGreaterThan(0); // at least the mutations that wrote the byte already there
  });
});
