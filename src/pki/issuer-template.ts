/**
 * An issuer compiled once: everything in a certificate body that depends only on the issuing CA
 * (issuer Name DER, AKI, CRL distribution point, AIA, signature AlgorithmIdentifier) is encoded
 * here, so writing a certificate only encodes what changes per certificate (FIELD-NOTES: ≈15× the
 * rate of a generic ASN.1 object model).
 */
import { AsnConvert } from "@peculiar/asn1-schema";
import {
  BasicConstraints,
  Certificate,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  id_ce_subjectKeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  SubjectKeyIdentifier,
} from "@peculiar/asn1-x509";
import type { Signer } from "../crypto/key-store.js";
import { KeyfleetError } from "../domain/index.js";
import { concat, tag } from "./der.js";
import { children, expect, raw, readOnly, type Tlv } from "./der-reader.js";
import {
  authorityInfoAccess,
  authorityKeyIdentifier,
  crlDistributionPoints,
  keyIdentifier,
} from "./extensions.js";
import { decodeName, encodeName, type DistinguishedName } from "./name.js";
import { sanSyntaxProblem } from "./san.js";
import { keyAlgorithmOfSpki, readSubjectPublicKeyInfo } from "./spki.js";

export interface RevocationUrls {
  readonly caIssuers: string;
  readonly crl: string;
  readonly ocsp: string;
}

export interface IssuerTemplate {
  readonly subject: DistinguishedName;
  readonly notAfter: Date;
  readonly signer: Signer;
  /** The issuer's Name, DER, byte for byte as in its own certificate (RFC 5280 §4.1.2.4 chaining). */
  readonly issuerName: Uint8Array;
  /** The issuer's key identifier: the AKI of everything it issues. */
  readonly keyIdentifier: Uint8Array;
  /** The issuer's own pathLenConstraint (undefined: none); 0 means it may not issue CA certificates. */
  readonly pathLength: number | undefined;
  /** Made by compileSelfIssuer: writes exactly one certificate, its own (subject = issuer, same key). */
  readonly selfSigned: boolean;
  /** Precomputed DER: the AKI extension, and CRL DP + AIA (empty without URLs). */
  readonly authorityKeyIdentifierExtension: Uint8Array;
  readonly urlExtensions: Uint8Array;
}

function invalid(message: string, cause?: unknown): KeyfleetError {
  return new KeyfleetError("invalid-configuration", message, cause === undefined ? undefined : { cause });
}

function checkSigner(signer: Signer): Uint8Array {
  const spki = readSubjectPublicKeyInfo(signer.publicKey, "the signer's public key");
  if (keyAlgorithmOfSpki(spki, "the signer's public key") !== signer.keyAlgorithm) {
    throw invalid(`the signer says its key is ${signer.keyAlgorithm}, but its public key is not`);
  }
  return spki.key;
}

function urlExtensions(urls: RevocationUrls | undefined): Uint8Array {
  if (!urls) return new Uint8Array(0);
  for (const [name, url] of Object.entries(urls)) {
    if (sanSyntaxProblem({ type: "uri", value: url }))
      throw invalid(`the ${name} URL "${url}" is not an absolute ASCII URI`);
  }
  return concat([crlDistributionPoints(urls.crl), authorityInfoAccess(urls.ocsp, urls.caIssuers)]);
}

/** Raw subject and SPKI of a certificate: tbsCertificate fields 5 and 6 (after the optional [0] version). */
function rawFields(certificate: Uint8Array): { subject: Tlv; spki: Tlv } {
  const what = "the CA certificate";
  const [tbs] = children(readOnly(certificate, tag.sequence, what), what);
  const fields = children(expect(tbs!, tag.sequence, what), what);
  const first = fields[0]?.tag === 0xa0 ? 1 : 0;
  const subject = fields[first + 4];
  const spki = fields[first + 5];
  if (!subject || !spki) throw invalid(`${what} has no subject or public key`);
  return { subject, spki };
}

function caExtensions(cert: Certificate): { keyId?: Uint8Array; pathLength: number | undefined } {
  const find = (id: string) => cert.tbsCertificate.extensions?.find((e) => e.extnID === id)?.extnValue.buffer;
  const bc = find(id_ce_basicConstraints);
  const constraints = bc ? AsnConvert.parse(bc, BasicConstraints) : undefined;
  if (!constraints?.cA) throw invalid("the issuer certificate is not a CA certificate (basicConstraints cA)");
  const ku = find(id_ce_keyUsage);
  // RFC 5280 §4.2.1.3: a CA that signs certificates must have keyCertSign when keyUsage is present.
  if (ku && !(AsnConvert.parse(ku, KeyUsage).toNumber() & KeyUsageFlags.keyCertSign)) {
    throw invalid("the issuer certificate's keyUsage lacks keyCertSign");
  }
  const ski = find(id_ce_subjectKeyIdentifier);
  const keyId = ski ? new Uint8Array(AsnConvert.parse(ski, SubjectKeyIdentifier).buffer) : undefined;
  return { ...(keyId ? { keyId } : {}), pathLength: constraints.pathLenConstraint };
}

/** An issuer from its own certificate and its signer; checks they hold the same key. */
export function compileIssuer(input: {
  certificate: Uint8Array;
  signer: Signer;
  urls?: RevocationUrls;
}): IssuerTemplate {
  let cert: Certificate;
  let fields: { subject: Tlv; spki: Tlv };
  let ca: { keyId?: Uint8Array; pathLength: number | undefined };
  try {
    cert = AsnConvert.parse(input.certificate, Certificate);
    fields = rawFields(input.certificate);
    ca = caExtensions(cert);
  } catch (cause) {
    if (cause instanceof KeyfleetError && cause.code === "invalid-configuration") throw cause;
    throw invalid("the CA certificate does not parse as X.509 DER", cause);
  }
  if (Buffer.compare(raw(fields.spki), input.signer.publicKey) !== 0) {
    throw invalid("the signer's public key is not the public key in the CA certificate");
  }
  const subjectKey = checkSigner(input.signer);
  const { keyId, pathLength } = ca;
  let subject: DistinguishedName;
  try {
    subject = decodeName(fields.subject, "the CA certificate's subject");
  } catch (cause) {
    throw invalid(`the CA certificate's subject cannot be used: ${(cause as Error).message}`, cause);
  }
  const id = keyId ?? keyIdentifier(subjectKey); // RFC 5280 §4.2.1.1: AKI = the issuer's SKI
  return {
    subject,
    notAfter: cert.tbsCertificate.validity.notAfter.getTime(),
    signer: input.signer,
    issuerName: raw(fields.subject).slice(),
    keyIdentifier: id,
    pathLength,
    selfSigned: false,
    authorityKeyIdentifierExtension: authorityKeyIdentifier(id),
    urlExtensions: urlExtensions(input.urls),
  };
}

/**
 * An issuer for creating a root: issuer = subject, AKI = its own SKI (RFC 5280 §4.2.1.1 allows it
 * in self-signed certificates, and it helps chain builders). No CRL DP or AIA: nothing revokes a root.
 */
export function compileSelfIssuer(input: {
  subject: DistinguishedName;
  signer: Signer;
  notAfter: Date;
}): IssuerTemplate {
  const id = keyIdentifier(checkSigner(input.signer));
  return {
    subject: input.subject,
    notAfter: input.notAfter,
    signer: input.signer,
    issuerName: encodeName(input.subject),
    keyIdentifier: id,
    pathLength: undefined,
    selfSigned: true,
    authorityKeyIdentifierExtension: authorityKeyIdentifier(id),
    urlExtensions: new Uint8Array(0),
  };
}
