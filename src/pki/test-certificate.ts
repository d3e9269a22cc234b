/**
 * TEST SUPPORT ONLY — not exported from index.ts. Certificates of any shape, good or broken, for
 * path validation tests: a CA without cA, a pathLenConstraint, an unknown critical extension, a
 * wrong signature, any validity. Written with the DER writer and signed with node:crypto; the
 * production writer (certificate-writer.ts) refuses most of these on purpose.
 */
import { constants, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import { signatureAlgorithms } from "../crypto/algorithms.js";
import { bitString, derNull, explicit, integer, oid, sequence, smallInteger, time } from "./der.js";
import {
  authorityKeyIdentifier,
  basicConstraints,
  extension,
  keyIdentifier,
  keyUsage,
  subjectKeyIdentifier,
} from "./extensions.js";
import { encodeName } from "./name.js";
import type { KeyUsageName } from "./profiles.js";
import { readSubjectPublicKeyInfo } from "./spki.js";

export type TestKeyType = "p256" | "p384" | "rsa2048" | "ed25519";
export type TestSignature =
  "ecdsa-sha256" | "ecdsa-sha384" | "rsa-pkcs1-sha256" | "rsa-pss-sha256" | "ed25519";

export interface TestKeyPair {
  readonly type: TestKeyType;
  readonly privateKey: KeyObject;
  readonly spki: Uint8Array;
}

export function testKeyPair(type: TestKeyType): TestKeyPair {
  const { privateKey, publicKey } =
    type === "rsa2048"
      ? generateKeyPairSync("rsa", { modulusLength: 2048 })
      : type === "ed25519"
        ? generateKeyPairSync("ed25519")
        : generateKeyPairSync("ec", { namedCurve: type === "p256" ? "P-256" : "P-384" });
  return { type, privateKey, spki: new Uint8Array(publicKey.export({ type: "spki", format: "der" })) };
}

export interface TestCertificate {
  readonly der: Uint8Array;
  readonly subjectName: Uint8Array;
  readonly key: TestKeyPair;
  readonly keyId: Uint8Array;
}

export interface TestCertificateOptions {
  readonly commonName: string;
  readonly key: TestKeyPair;
  /** The issuing certificate; absent: self-signed. */
  readonly issuer?: TestCertificate;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** basicConstraints: cA TRUE (with pathLenConstraint), an end entity (`false`), or absent (`"absent"`). */
  readonly ca?: boolean | { readonly pathLength: number } | "absent";
  /** keyUsage bits; default keyCertSign + cRLSign for a CA, digitalSignature otherwise; null: absent. */
  readonly keyUsage?: readonly KeyUsageName[] | null;
  readonly signature?: TestSignature;
  /** Extensions (complete Extension DER) after the others. */
  readonly extraExtensions?: readonly Uint8Array[];
  /** Flip a bit of the signature. */
  readonly corruptSignature?: boolean;
  /** Omit the authorityKeyIdentifier. */
  readonly noAuthorityKeyId?: boolean;
  /** Use this authorityKeyIdentifier instead of the issuer's key id. */
  readonly authorityKeyId?: Uint8Array;
}

const pssSha256 = sequence(
  oid("1.2.840.113549.1.1.10"),
  sequence(
    explicit(0, sequence(oid("2.16.840.1.101.3.4.2.1"), derNull)),
    explicit(1, sequence(oid("1.2.840.113549.1.1.8"), sequence(oid("2.16.840.1.101.3.4.2.1"), derNull))),
    explicit(2, smallInteger(32)),
  ),
);

function defaultSignature(key: TestKeyPair): TestSignature {
  return { p256: "ecdsa-sha256", p384: "ecdsa-sha384", rsa2048: "rsa-pkcs1-sha256", ed25519: "ed25519" }[
    key.type
  ] as TestSignature;
}

function algorithmIdentifier(s: TestSignature): Uint8Array {
  return s === "rsa-pss-sha256" ? pssSha256 : signatureAlgorithms[s].algorithmIdentifier;
}

function signWith(s: TestSignature, key: KeyObject, data: Uint8Array): Uint8Array {
  switch (s) {
    case "ed25519":
      return sign(null, data, key);
    case "rsa-pss-sha256":
      return sign("sha256", data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    default:
      return sign(signatureAlgorithms[s].hash!, data, key);
  }
}

export function testCertificate(o: TestCertificateOptions): TestCertificate {
  const subjectName = encodeName([
    { type: "O", value: "Keyfleet Path Test" },
    { type: "CN", value: o.commonName },
  ]);
  const keyId = keyIdentifier(readSubjectPublicKeyInfo(o.key.spki, "test key").key);
  const signerKey = o.issuer?.key ?? o.key;
  const signature = o.signature ?? defaultSignature(signerKey);
  const ca = o.ca ?? false;
  const isCa = ca !== false && ca !== "absent";
  const usages =
    o.keyUsage === undefined ? (isCa ? ["keyCertSign", "cRLSign"] : ["digitalSignature"]) : o.keyUsage;
  const extensions = [
    ...(ca === "absent" ? [] : [basicConstraints(isCa, typeof ca === "object" ? ca.pathLength : undefined)]),
    ...(usages === null ? [] : [keyUsage(usages as KeyUsageName[])]),
    subjectKeyIdentifier(keyId),
    ...(o.noAuthorityKeyId ? [] : [authorityKeyIdentifier(o.authorityKeyId ?? o.issuer?.keyId ?? keyId)]),
    ...(o.extraExtensions ?? []),
  ];
  const tbs = sequence(
    explicit(0, smallInteger(2)),
    integer(Uint8Array.of(0x01, ...randomBytes(15))),
    algorithmIdentifier(signature),
    o.issuer?.subjectName ?? subjectName,
    sequence(time(o.notBefore), time(o.notAfter)),
    subjectName,
    o.key.spki,
    explicit(3, sequence(...extensions)),
  );
  const sig = signWith(signature, signerKey.privateKey, tbs);
  if (o.corruptSignature) sig[sig.length - 1]! ^= 0x01;
  return {
    der: sequence(tbs, algorithmIdentifier(signature), bitString(sig)),
    subjectName,
    key: o.key,
    keyId,
  };
}

/** An extension nobody knows (a private-arc OID), critical. */
export const unknownCriticalExtension: Uint8Array = extension("1.3.6.1.4.1.55555.1", true, derNull);
