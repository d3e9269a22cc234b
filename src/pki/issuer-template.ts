/**
 * An issuer compiled once: everything in a certificate body that depends only on the issuing CA
 * (issuer Name DER, AKI, CRL distribution point, AIA, signature AlgorithmIdentifier) is encoded
 * here, so writing a certificate only encodes what changes per certificate (FIELD-NOTES: ≈15× the
 * rate of a generic ASN.1 object model).
 */
import type { Signer } from "../crypto/key-store.js";
import { KeyfleetError } from "../domain/index.js";
import { concat, tag } from "./der.js";
import {
  children,
  expect,
  malformed,
  namedBit,
  only,
  raw,
  readBitString,
  readBoolean,
  readExtensions,
  readOctetString,
  readOid,
  readOnly,
  readSmallInteger,
  readTime,
  type Extension,
  type Tlv,
} from "./der-reader.js";
import {
  authorityInfoAccess,
  authorityKeyIdentifier,
  crlDistributionPoints,
  keyIdentifier,
} from "./extensions.js";
import { decodeName, encodeName, type DistinguishedName } from "./name.js";
import { oid } from "./oids.js";
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
  /** Precomputed DER: the AKI extension. */
  readonly authorityKeyIdentifierExtension: Uint8Array;
  /**
   * Precomputed DER: CRL DP + AIA, one per CRL shard (crl-shard.ts: a certificate gets its
   * serial's); none without URLs.
   */
  readonly urlExtensions: readonly Uint8Array[];
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

function urlExtensions(urls: RevocationUrls | readonly RevocationUrls[] | undefined): Uint8Array[] {
  if (!urls) return [];
  const shards: readonly RevocationUrls[] = "crl" in urls ? [urls] : urls;
  return shards.map((shard) => {
    for (const [name, url] of Object.entries(shard) as [string, string][]) {
      if (sanSyntaxProblem({ type: "uri", value: url }))
        throw invalid(`the ${name} URL "${url}" is not an absolute ASCII URI`);
    }
    return concat([crlDistributionPoints(shard.crl), authorityInfoAccess(shard.ocsp, shard.caIssuers)]);
  });
}

/** What an issuer needs from its certificate; subject and SPKI raw, to be copied byte for byte. */
interface CaCertificate {
  readonly subject: Tlv;
  readonly spki: Tlv;
  readonly notAfter: Date;
  readonly extensions: ReadonlyMap<string, Extension>;
}

const WHAT = "the CA certificate";

/**
 * Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING } and
 * TBSCertificate (RFC 5280 §4.1): [0] version OPTIONAL, serialNumber, signature, issuer, validity,
 * subject, subjectPublicKeyInfo, then [1] issuerUniqueID, [2] subjectUniqueID, [3] extensions, each
 * optional and in that order. The signature is not checked: the caller trusts this certificate.
 */
function readCaCertificate(certificate: Uint8Array): CaCertificate {
  const outer = children(readOnly(certificate, tag.sequence, WHAT), WHAT);
  if (outer.length !== 3) throw malformed(WHAT, "a Certificate has three fields");
  algorithmIdentifier(outer[1]!);
  readBitString(outer[2]!, `${WHAT} signature`);
  const fields = children(expect(outer[0]!, tag.sequence, WHAT), WHAT);
  if (fields[0]?.tag === 0xa0) readSmallInteger(only(fields.shift()!, WHAT), `${WHAT} version`);
  const [serial, signature, issuer, validity, subject, spki, ...optional] = fields;
  if (!spki) throw malformed(WHAT, "the tbsCertificate is missing fields");
  expect(serial!, tag.integer, `${WHAT} serialNumber`);
  algorithmIdentifier(signature!);
  expect(issuer!, tag.sequence, `${WHAT} issuer`);
  expect(subject!, tag.sequence, `${WHAT} subject`);
  expect(spki, tag.sequence, `${WHAT} subjectPublicKeyInfo`);
  const times = children(expect(validity!, tag.sequence, `${WHAT} validity`), `${WHAT} validity`);
  if (times.length !== 2) throw malformed(`${WHAT} validity`, "expected notBefore and notAfter");
  readTime(times[0]!, `${WHAT} notBefore`);
  const notAfter = readTime(times[1]!, `${WHAT} notAfter`);
  let extensions: ReadonlyMap<string, Extension> = new Map();
  let last = 0;
  for (const t of optional) {
    const n = t.tag === 0x81 || t.tag === 0x82 ? t.tag & 0x1f : t.tag === 0xa3 ? 3 : -1;
    if (n <= last) throw malformed(WHAT, `unexpected tag 0x${t.tag.toString(16)} after the public key`);
    if (n === 3) extensions = readExtensions(only(t, WHAT), `${WHAT} extensions`);
    last = n;
  }
  return { subject: subject!, spki, notAfter, extensions };
}

/** AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL } (RFC 5280 §4.1.1.2). */
function algorithmIdentifier(t: Tlv): void {
  const what = `${WHAT} signature algorithm`;
  const [algorithm, ...parameters] = children(expect(t, tag.sequence, what), what);
  if (!algorithm || parameters.length > 1) throw malformed(what, "AlgorithmIdentifier has the wrong shape");
  readOid(algorithm, what);
}

/** BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL } */
function readBasicConstraints(value: Uint8Array): { ca: boolean; pathLength: number | undefined } {
  const what = `${WHAT} basicConstraints`;
  const fields = children(readOnly(value, tag.sequence, what), what);
  const ca = fields[0]?.tag === tag.boolean ? readBoolean(fields.shift()!, what) : false;
  const [pathLength, ...extra] = fields;
  if (extra.length) throw malformed(what, "BasicConstraints has the wrong shape");
  return { ca, pathLength: pathLength ? readSmallInteger(pathLength, what) : undefined };
}

/** An extension's value: exactly one TLV of `expectedTag`. */
const valueOf = (ext: Extension, expectedTag: number): Tlv =>
  readOnly(ext.value, expectedTag, `${WHAT} extension ${ext.oid}`);

function caExtensions(extensions: ReadonlyMap<string, Extension>): {
  keyId?: Uint8Array;
  pathLength: number | undefined;
} {
  const bc = extensions.get(oid.basicConstraints);
  const constraints = bc ? readBasicConstraints(bc.value) : undefined;
  if (!constraints?.ca) throw invalid("the issuer certificate is not a CA certificate (basicConstraints cA)");
  const ku = extensions.get(oid.keyUsage);
  // RFC 5280 §4.2.1.3: a CA that signs certificates must have keyCertSign (bit 5) when keyUsage is present.
  if (ku && !namedBit(readBitString(valueOf(ku, tag.bitString), `${WHAT} keyUsage`), 5)) {
    throw invalid("the issuer certificate's keyUsage lacks keyCertSign");
  }
  const ski = extensions.get(oid.subjectKeyIdentifier);
  const keyId = ski ? readOctetString(valueOf(ski, tag.octetString), `${WHAT} SKI`).slice() : undefined;
  return { ...(keyId ? { keyId } : {}), pathLength: constraints.pathLength };
}

/**
 * An issuer from its own certificate and its signer; checks they hold the same key. `urls`: where
 * its certificates' relying parties look, one set per CRL shard (a single set: one shard).
 */
export function compileIssuer(input: {
  certificate: Uint8Array;
  signer: Signer;
  urls?: RevocationUrls | readonly RevocationUrls[];
}): IssuerTemplate {
  let fields: CaCertificate;
  let ca: { keyId?: Uint8Array; pathLength: number | undefined };
  try {
    fields = readCaCertificate(input.certificate);
    ca = caExtensions(fields.extensions);
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
    notAfter: fields.notAfter,
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
    urlExtensions: [],
  };
}
