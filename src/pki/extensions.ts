/**
 * Certificate extensions (RFC 5280 §4.2), each as its complete `Extension` DER. Issuer-constant ones
 * (AKI, CRL distribution points, AIA) are built once per issuer; profile-constant ones once per
 * profile; only SAN and SKI are written per certificate.
 */
import { createHash } from "node:crypto";
import {
  bitString,
  boolean,
  contextPrimitive,
  derNull,
  explicit,
  ia5Bytes,
  octetString,
  oid,
  sequence,
  smallInteger,
} from "./der.js";
import { oid as oids } from "./oids.js";
import type { KeyUsageName } from "./profiles.js";
import { encodeGeneralNames, type SanEntry } from "./san.js";

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } (DER omits FALSE). */
export function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical
    ? sequence(oid(id), boolean(true), octetString(value))
    : sequence(oid(id), octetString(value));
}

/**
 * §4.2.1.9, always critical. For end entities: an empty SEQUENCE (cA FALSE is the DEFAULT, so DER
 * omits it), which RFC 5280 and `openssl -x509_strict` accept and which says plainly "not a CA".
 */
export function basicConstraints(ca: boolean, pathLength?: number): Uint8Array {
  const fields = ca ? [boolean(true), ...(pathLength === undefined ? [] : [smallInteger(pathLength)])] : [];
  return extension(oids.basicConstraints, true, sequence(...fields));
}

const keyUsageBit: Readonly<Record<KeyUsageName, number>> = {
  digitalSignature: 0,
  keyEncipherment: 2,
  keyCertSign: 5,
  cRLSign: 6,
};

/** §4.2.1.3, critical; a named bit list, so DER drops trailing zero bits (X.690 §11.2.2). */
export function keyUsage(usages: readonly KeyUsageName[]): Uint8Array {
  let bits = 0; // bit 0 (digitalSignature) is the most significant bit of the first octet
  for (const u of usages) bits |= 0x80 >> keyUsageBit[u];
  const highest = Math.max(...usages.map((u) => keyUsageBit[u]));
  const unused = 7 - highest;
  return extension(oids.keyUsage, true, bitString(Uint8Array.of(bits), usages.length ? unused : 0));
}

/** §4.2.1.12, non-critical (a critical EKU breaks relying parties that do not know a purpose). */
export function extKeyUsage(purposes: readonly string[]): Uint8Array {
  return extension(oids.extKeyUsage, false, sequence(...purposes.map(oid)));
}

/** §4.2.1.6: critical exactly when the subject is empty. */
export function subjectAltName(sans: readonly SanEntry[], critical: boolean): Uint8Array {
  return extension(oids.subjectAltName, critical, encodeGeneralNames(sans));
}

/**
 * Key identifiers: RFC 7093 §2 method 1, the leftmost 160 bits of the SHA-256 of the
 * subjectPublicKey BIT STRING's value. Same length as the RFC 5280 §4.2.1.2 SHA-1 method, no SHA-1.
 */
export function keyIdentifier(subjectPublicKey: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(subjectPublicKey).digest().subarray(0, 20));
}

/** §4.2.1.2, non-critical. */
export function subjectKeyIdentifier(keyId: Uint8Array): Uint8Array {
  return extension(oids.subjectKeyIdentifier, false, octetString(keyId));
}

/** §4.2.1.1, non-critical; keyIdentifier [0] only (no issuer name and serial: they would pin the issuer cert). */
export function authorityKeyIdentifier(keyId: Uint8Array): Uint8Array {
  return extension(oids.authorityKeyIdentifier, false, sequence(contextPrimitive(0, keyId)));
}

/**
 * distributionPoint [0] DistributionPointName of one URI: the CHOICE's tag is explicit, its fullName
 * [0] is implicit GeneralNames.
 */
function distributionPoint(url: string): Uint8Array {
  return explicit(0, explicit(0, contextPrimitive(6, ia5Bytes(url))));
}

/** §4.2.1.13, non-critical: one DistributionPoint with a fullName URI. */
export function crlDistributionPoints(url: string): Uint8Array {
  return extension(oids.cRLDistributionPoints, false, sequence(sequence(distributionPoint(url))));
}

/** §5.2.6 Freshest CRL, non-critical, in a full CRL: where its delta CRL is (CRLDistributionPoints syntax). */
export function freshestCrl(url: string): Uint8Array {
  return extension(oids.freshestCRL, false, sequence(sequence(distributionPoint(url))));
}

/**
 * §5.2.5 Issuing Distribution Point, critical: the URI this CRL is published at (a shard's own),
 * and onlyContainsUserCerts [1] when its issuer issues end entities only.
 */
export function issuingDistributionPoint(url: string, onlyUserCertificates: boolean): Uint8Array {
  return extension(
    oids.issuingDistributionPoint,
    true,
    sequence(
      distributionPoint(url),
      ...(onlyUserCertificates ? [contextPrimitive(1, Uint8Array.of(0xff))] : []),
    ),
  );
}

/** §4.2.2.1, non-critical: OCSP responder, then the issuer's certificate (for chain building). */
export function authorityInfoAccess(ocspUrl: string, caIssuersUrl: string): Uint8Array {
  const access = (method: string, url: string): Uint8Array =>
    sequence(oid(method), contextPrimitive(6, ia5Bytes(url)));
  return extension(
    oids.authorityInfoAccess,
    false,
    sequence(access(oids.accessOcsp, ocspUrl), access(oids.accessCaIssuers, caIssuersUrl)),
  );
}

/** RFC 6960 §4.2.2.2.1 id-pkix-ocsp-nocheck: value NULL, non-critical. */
export const ocspNoCheck: Uint8Array = extension(oids.ocspNoCheck, false, derNull);
