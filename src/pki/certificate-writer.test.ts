import "reflect-metadata";
import { createPublicKey, verify } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate } from "@peculiar/asn1-x509";
import { beforeAll, describe, expect, test } from "vitest";
import { signatureAlgorithms, keyAlgorithm, type KeyAlgorithmId } from "../crypto/algorithms.js";
import { writeCertificate } from "./certificate-writer.js";
import { encodeName, type DistinguishedName } from "./name.js";
import { profiles, type ProfileName } from "./profiles.js";
import type { SanEntry } from "./san.js";
import { newSerial, serialToHex } from "./serial.js";
import { issuingUrls, rootUrls, testChain, type TestChain } from "./test-chain.js";
import { referenceCertificate, referenceKeyId } from "./test-reference-certificate.js";
import { testSigner, type TestKey } from "./test-signer.js";

const hex = (b: Uint8Array | ArrayBuffer): string =>
  Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString("hex");

// Fixed instants: the root's notAfter is past 2049, so GeneralizedTime is compared too; the .123 must vanish.
const notBefore = new Date("2026-01-01T00:00:00.123Z");
const validity = {
  notBefore,
  rootNotAfter: new Date("2050-06-01T00:00:00Z"),
  issuingNotAfter: new Date("2035-01-01T00:00:00Z"),
};

interface Case {
  readonly label: string;
  readonly profile: ProfileName;
  readonly subject: DistinguishedName;
  readonly sans: readonly SanEntry[];
  readonly notAfter: Date;
}

const leafCases: readonly Case[] = [
  {
    label: "device (IEEE 802.1AR LDevID)",
    profile: "device",
    subject: [
      { type: "CN", value: "sensor-0042" },
      { type: "serialNumber", value: "SN0042" },
    ],
    sans: [
      { type: "uri", value: "urn:keyfleet:device:dev-0042" },
      { type: "dns", value: "sensor-0042.fleet.example" },
      { type: "hardwareModuleName", hwType: "1.3.6.1.4.1.99999.1", hwSerialNum: "534E30303432" },
    ],
    notAfter: new Date("2027-01-01T00:00:00Z"),
  },
  {
    label: "device with an empty subject (critical SAN)",
    profile: "device",
    subject: [],
    sans: [{ type: "uri", value: "urn:keyfleet:device:dev-0043" }],
    notAfter: new Date("2027-01-01T00:00:00Z"),
  },
  {
    label: "tls-server",
    profile: "tls-server",
    subject: [{ type: "CN", value: "pki.example.test" }],
    sans: [
      { type: "dns", value: "pki.example.test" },
      { type: "ip", value: "127.0.0.1" },
      { type: "ip", value: "::1" },
    ],
    notAfter: new Date("2026-03-31T00:00:00Z"),
  },
  {
    label: "ocsp-responder",
    profile: "ocsp-responder",
    subject: [{ type: "CN", value: "OCSP Responder" }],
    sans: [],
    notAfter: new Date("2026-01-31T00:00:00Z"),
  },
];

/** Ours and the reference for one leaf under the issuing CA. */
async function leafPair(chain: TestChain, subjectKey: TestKey, algorithm: KeyAlgorithmId, c: Case) {
  const serial = newSerial();
  const order = {
    serial,
    subject: c.subject,
    sans: c.sans,
    subjectPublicKeyInfo: subjectKey.signer.publicKey,
    notBefore,
    notAfter: c.notAfter,
    profile: profiles[c.profile],
  };
  const ours = await writeCertificate(chain.issuing.issuer, order);
  const reference = await referenceCertificate({
    ...order,
    serialHex: serialToHex(serial),
    spki: order.subjectPublicKeyInfo,
    issuerName: encodeName(chain.issuing.subject),
    issuerKeyId: referenceKeyId(chain.issuing.key.signer.publicKey),
    urls: issuingUrls,
    signingKey: chain.issuing.key.privateKey,
    signingAlgorithm: algorithm,
  });
  return { ours, reference };
}

/** Ours and the reference for the two CA certificates of the chain. */
async function caPairs(chain: TestChain, algorithm: KeyAlgorithmId) {
  const common = { sans: [], notBefore, signingAlgorithm: algorithm };
  const root = await referenceCertificate({
    ...common,
    serialHex: serialToHex(chain.root.serial),
    subject: chain.root.subject,
    issuerName: encodeName(chain.root.subject),
    issuerKeyId: referenceKeyId(chain.root.key.signer.publicKey),
    spki: chain.root.key.signer.publicKey,
    notAfter: validity.rootNotAfter,
    profile: profiles["root-ca"],
    signingKey: chain.root.key.privateKey,
  });
  const issuing = await referenceCertificate({
    ...common,
    serialHex: serialToHex(chain.issuing.serial),
    subject: chain.issuing.subject,
    issuerName: encodeName(chain.root.subject),
    issuerKeyId: referenceKeyId(chain.root.key.signer.publicKey),
    spki: chain.issuing.key.signer.publicKey,
    notAfter: validity.issuingNotAfter,
    profile: profiles["issuing-ca"],
    urls: rootUrls,
    signingKey: chain.root.key.privateKey,
  });
  return [
    { label: "root-ca", ours: chain.root.der, reference: root },
    { label: "issuing-ca", ours: chain.issuing.der, reference: issuing },
  ];
}

function tbsOf(der: Uint8Array): {
  tbs: string;
  signatureAlgorithm: string;
  signature: Uint8Array;
  tbsRaw: Uint8Array;
} {
  const cert = AsnConvert.parse(der, Certificate);
  return {
    tbs: hex(AsnConvert.serialize(cert.tbsCertificate)),
    signatureAlgorithm: hex(AsnConvert.serialize(cert.signatureAlgorithm)),
    signature: new Uint8Array(cert.signatureValue),
    tbsRaw: new Uint8Array(cert.tbsCertificateRaw!),
  };
}

function verifiesUnder(der: Uint8Array, issuerKey: TestKey, algorithm: KeyAlgorithmId): boolean {
  const { tbsRaw, signature } = tbsOf(der);
  const hash = signatureAlgorithms[keyAlgorithm(algorithm).signature].hash;
  return verify(
    hash,
    tbsRaw,
    createPublicKey({ key: Buffer.from(issuerKey.signer.publicKey), format: "der", type: "spki" }),
    signature,
  );
}

describe("Ed25519 (deterministic signatures): the whole certificate equals @peculiar/x509's", () => {
  let chain: TestChain;
  let leafKey: TestKey;
  beforeAll(async () => {
    chain = await testChain("ed25519", validity);
    leafKey = await testSigner("ed25519");
  });

  test("for root-ca and issuing-ca", async () => {
    for (const pair of await caPairs(chain, "ed25519"))
      expect(hex(pair.ours), pair.label).toBe(hex(pair.reference));
  });

  test.each(leafCases.map((c) => [c.label, c] as const))("for %s", async (_label, c) => {
    const { ours, reference } = await leafPair(chain, leafKey, "ed25519", c);
    expect(hex(ours)).toBe(hex(reference));
  });
});

describe.each<KeyAlgorithmId>(["p256", "p384", "rsa3072"])(
  "%s: the TBSCertificate equals @peculiar/x509's and the signature verifies",
  (algorithm) => {
    let chain: TestChain;
    let leafKey: TestKey;
    beforeAll(async () => {
      chain = await testChain(algorithm, validity);
      leafKey = await testSigner(algorithm);
    });

    test("for root-ca and issuing-ca", async () => {
      for (const pair of await caPairs(chain, algorithm)) {
        const [ours, reference] = [tbsOf(pair.ours), tbsOf(pair.reference)];
        expect(ours.tbs, pair.label).toBe(reference.tbs);
        expect(ours.signatureAlgorithm).toBe(reference.signatureAlgorithm);
      }
      expect(verifiesUnder(chain.root.der, chain.root.key, algorithm)).toBe(true);
      expect(verifiesUnder(chain.issuing.der, chain.root.key, algorithm)).toBe(true);
    });

    test.each(leafCases.map((c) => [c.label, c] as const))("for %s", async (_label, c) => {
      const { ours, reference } = await leafPair(chain, leafKey, algorithm, c);
      expect(tbsOf(ours).tbs).toBe(tbsOf(reference).tbs);
      expect(verifiesUnder(ours, chain.issuing.key, algorithm)).toBe(true);
      expect(verifiesUnder(ours, chain.root.key, algorithm)).toBe(false);
    });
  },
);
