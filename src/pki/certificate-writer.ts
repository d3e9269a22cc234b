/**
 * Certificate bodies written directly in DER (RFC 5280 §4.1) from a compiled issuer and an order;
 * tests prove the bytes equal @peculiar/x509's output and openssl's `verify -x509_strict` accepts them.
 *
 * Extensions, in this order:
 *   1. basicConstraints      critical   CA:TRUE[, pathLen] for CA profiles; empty (CA:FALSE) otherwise
 *   2. keyUsage              critical   the profile's bits
 *   3. extKeyUsage           —          end-entity profiles with purposes
 *   4. subjectAltName        critical iff the subject is empty (§4.2.1.6); only when there are SANs
 *   5. subjectKeyIdentifier  —          RFC 7093 §2 method 1 (extensions.ts)
 *   6. authorityKeyIdentifier —         keyIdentifier = the issuer's SKI (also on a self-signed root)
 *   7. cRLDistributionPoints —          when the issuer has URLs
 *   8. authorityInfoAccess   —          OCSP then caIssuers, when the issuer has URLs
 *   9. id-pkix-ocsp-nocheck  —          ocsp-responder profile only (RFC 6960 §4.2.2.2.1)
 */
import { keyAlgorithms, roleRestriction, type KeyAlgorithmId } from "../crypto/algorithms.js";
import { KeyfleetError } from "../domain/index.js";
import { bitString, concat, explicit, integer, sequence, smallInteger, time } from "./der.js";
import {
  basicConstraints,
  extKeyUsage,
  keyIdentifier,
  keyUsage,
  ocspNoCheck,
  subjectAltName,
  subjectKeyIdentifier,
} from "./extensions.js";
import { crlShardOf } from "./crl-shard.js";
import type { IssuerTemplate } from "./issuer-template.js";
import { encodeName, type DistinguishedName } from "./name.js";
import { checkNames, type Profile } from "./profiles.js";
import type { SanEntry } from "./san.js";
import { isValidSerial } from "./serial.js";
import { keyAlgorithmOfSpki, readSubjectPublicKeyInfo } from "./spki.js";

export interface CertificateOrder {
  readonly serial: Uint8Array;
  readonly subject: DistinguishedName;
  readonly sans: readonly SanEntry[];
  /** Copied as-is into the TBS. */
  readonly subjectPublicKeyInfo: Uint8Array;
  /** Whole seconds (milliseconds are dropped); the caller clips notAfter to the issuer's. */
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly profile: Profile;
}

const version3 = explicit(0, smallInteger(2)); // [0] EXPLICIT Version v3 (§4.1.2.1)
const profileParts = new WeakMap<Profile, { readonly head: Uint8Array; readonly tail: Uint8Array }>();

/** The profile-constant extensions before and after the per-certificate ones, encoded once. */
function partsOf(profile: Profile): { readonly head: Uint8Array; readonly tail: Uint8Array } {
  let parts = profileParts.get(profile);
  if (!parts) {
    const eku = profile.extendedKeyUsage.length ? [extKeyUsage(profile.extendedKeyUsage)] : [];
    parts = {
      head: concat([basicConstraints(profile.ca, profile.pathLength), keyUsage(profile.keyUsage), ...eku]),
      tail: profile.ocspNoCheck ? ocspNoCheck : new Uint8Array(0),
    };
    profileParts.set(profile, parts);
  }
  return parts;
}

function violation(message: string): KeyfleetError {
  return new KeyfleetError("profile-violation", message);
}

const seconds = (d: Date): number => Math.floor(d.getTime() / 1000);

function checkOrder(issuer: IssuerTemplate, order: CertificateOrder): void {
  const { profile } = order;
  if (!isValidSerial(order.serial)) {
    throw violation("the serial number must be positive and at most 20 octets (RFC 5280 §4.1.2.2)");
  }
  const [notBefore, notAfter] = [seconds(order.notBefore), seconds(order.notAfter)];
  if (!(notBefore < notAfter)) throw violation("notAfter must be later than notBefore");
  if (notAfter > seconds(issuer.notAfter)) {
    throw violation(
      `notAfter ${order.notAfter.toISOString()} is after the issuer's ${issuer.notAfter.toISOString()}`,
    );
  }
  if (notAfter - notBefore > profile.maxValiditySeconds) {
    throw violation(
      `profile "${profile.name}" allows at most ${profile.maxValiditySeconds} seconds of validity`,
    );
  }
  // §4.2.1.9: a CA whose pathLenConstraint is 0 may issue end-entity certificates only.
  if (profile.ca && issuer.pathLength === 0) {
    throw violation(`this issuer has pathLen 0: it cannot issue a "${profile.name}" certificate`);
  }
  checkNames(order.subject, order.sans, profile);
}

function checkKey(order: CertificateOrder): Uint8Array {
  const what = "the certificate's public key";
  const spki = readSubjectPublicKeyInfo(order.subjectPublicKeyInfo, what);
  const algorithm: KeyAlgorithmId = keyAlgorithmOfSpki(spki, what);
  if (!order.profile.allowedKeyAlgorithms.includes(algorithm)) {
    throw new KeyfleetError(
      "unsupported-algorithm",
      `profile "${order.profile.name}" does not allow ${keyAlgorithms[algorithm].label} keys${roleRestriction(algorithm, order.profile.keyRole)}`,
    );
  }
  return spki.key;
}

function checkSelfSigned(issuer: IssuerTemplate, order: CertificateOrder, subjectName: Uint8Array): void {
  if (!issuer.selfSigned) return;
  if (
    Buffer.compare(order.subjectPublicKeyInfo, issuer.signer.publicKey) !== 0 ||
    Buffer.compare(subjectName, issuer.issuerName) !== 0
  ) {
    throw new KeyfleetError(
      "invalid-configuration",
      "a self-issuer writes only its own certificate: same subject and same key as its signer",
    );
  }
}

/** The TBSCertificate DER (§4.1.2) for an order already checked. */
function tbsCertificate(
  issuer: IssuerTemplate,
  order: CertificateOrder,
  subjectName: Uint8Array,
  subjectKey: Uint8Array,
): Uint8Array {
  const parts = partsOf(order.profile);
  const san = order.sans.length ? [subjectAltName(order.sans, order.subject.length === 0)] : [];
  const extensions = sequence(
    parts.head,
    ...san,
    subjectKeyIdentifier(keyIdentifier(subjectKey)),
    issuer.authorityKeyIdentifierExtension,
    ...(issuer.urlExtensions.length === 0
      ? []
      : [issuer.urlExtensions[crlShardOf(order.serial, issuer.urlExtensions.length)]!]),
    parts.tail,
  );
  return sequence(
    version3,
    integer(order.serial),
    issuer.signer.signatureAlgorithm.algorithmIdentifier,
    issuer.issuerName,
    sequence(time(order.notBefore), time(order.notAfter)),
    subjectName,
    order.subjectPublicKeyInfo,
    explicit(3, extensions),
  );
}

/** A complete v3 Certificate, DER, signed by the issuer's signer. */
export async function writeCertificate(issuer: IssuerTemplate, order: CertificateOrder): Promise<Uint8Array> {
  checkOrder(issuer, order);
  const subjectKey = checkKey(order);
  const subjectName = encodeName(order.subject);
  checkSelfSigned(issuer, order, subjectName);
  const tbs = tbsCertificate(issuer, order, subjectName, subjectKey);
  const signature = await issuer.signer.sign(tbs);
  return sequence(tbs, issuer.signer.signatureAlgorithm.algorithmIdentifier, bitString(signature));
}
