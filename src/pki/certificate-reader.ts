/**
 * An X.509 certificate read for path validation (RFC 5280 §4.1): the signed bytes and signature,
 * names as DER (compared byte for byte), validity, the key, and the extensions path processing
 * acts on (basicConstraints, keyUsage, key identifiers). Strict DER throughout (der-reader.ts);
 * a certificate that does not parse fails as `malformed-request`.
 */
import { tag } from "./der.js";
import {
  children,
  expect,
  malformed,
  namedBit,
  raw,
  readBitString,
  readBoolean,
  readExtensions,
  readOctetString,
  readOnly,
  readSmallInteger,
  readTime,
  value,
  type Extension,
  type Tlv,
} from "./der-reader.js";
import { oid } from "./oids.js";

export interface ReadCertificate {
  /** The whole certificate, DER. */
  readonly der: Uint8Array;
  /** TBSCertificate, DER: what the signature covers. */
  readonly tbs: Uint8Array;
  /** The outer signatureAlgorithm AlgorithmIdentifier, DER (§4.1.1.2). */
  readonly signatureAlgorithm: Uint8Array;
  /** TBSCertificate.signature, DER; §4.1.2.3 requires it to equal the outer one. */
  readonly tbsSignatureAlgorithm: Uint8Array;
  readonly signature: Uint8Array;
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly subjectPublicKeyInfo: Uint8Array;
  readonly extensions: ReadonlyMap<string, Extension>;
  /** basicConstraints; undefined when absent (not a CA). */
  readonly basicConstraints: { readonly ca: boolean; readonly pathLength: number | undefined } | undefined;
  /** keyUsage bit 5, keyCertSign; undefined when there is no keyUsage extension. */
  readonly keyCertSign: boolean | undefined;
  readonly subjectKeyId: Uint8Array | undefined;
  readonly authorityKeyId: Uint8Array | undefined;
}

const what = "the certificate";

/** Reads one DER certificate (nothing after it). */
export function readCertificate(der: Uint8Array): ReadCertificate {
  const [tbsTlv, sigAlg, sigValue, ...extra] = children(readOnly(der, tag.sequence, what), what);
  if (!tbsTlv || !sigAlg || !sigValue || extra.length)
    throw malformed(what, "Certificate has the wrong shape");
  expect(tbsTlv, tag.sequence, what);
  expect(sigAlg, tag.sequence, what);
  const bits = readBitString(sigValue, `${what} signature`);
  if (bits.unusedBits !== 0) throw malformed(what, "the signature has unused bits");
  const fields = children(tbsTlv, what);
  let i = 0;
  let version = 0; // v1
  if (fields[0]?.tag === 0xa0) {
    const [v, ...more] = children(fields[0], what);
    if (!v || more.length) throw malformed(what, "bad version");
    version = readSmallInteger(v, `${what} version`);
    i = 1;
  }
  const [serial, signature, issuer, validity, subject, spki, ...rest] = fields.slice(i);
  if (!serial || !signature || !issuer || !validity || !subject || !spki) {
    throw malformed(what, "TBSCertificate has the wrong shape");
  }
  expect(serial, tag.integer, `${what} serial`);
  expect(signature, tag.sequence, what);
  expect(issuer, tag.sequence, `${what} issuer`);
  expect(subject, tag.sequence, `${what} subject`);
  expect(spki, tag.sequence, `${what} subjectPublicKeyInfo`);
  const [notBefore, notAfter, ...moreTimes] = children(expect(validity, tag.sequence, what), what);
  if (!notBefore || !notAfter || moreTimes.length) throw malformed(what, "Validity has the wrong shape");
  const extensions = extensionsOf(rest, version);
  return {
    der,
    tbs: raw(tbsTlv),
    signatureAlgorithm: raw(sigAlg),
    tbsSignatureAlgorithm: raw(signature),
    signature: bits.bytes,
    issuer: raw(issuer),
    subject: raw(subject),
    notBefore: readTime(notBefore, `${what} notBefore`),
    notAfter: readTime(notAfter, `${what} notAfter`),
    subjectPublicKeyInfo: raw(spki),
    extensions,
    basicConstraints: basicConstraintsOf(extensions.get(oid.basicConstraints)),
    keyCertSign: keyCertSignOf(extensions.get(oid.keyUsage)),
    subjectKeyId: subjectKeyIdOf(extensions.get(oid.subjectKeyIdentifier)),
    authorityKeyId: authorityKeyIdOf(extensions.get(oid.authorityKeyIdentifier)),
  };
}

/** issuerUniqueID [1], subjectUniqueID [2] (skipped), extensions [3] (v3 only). */
function extensionsOf(rest: readonly Tlv[], version: number): ReadonlyMap<string, Extension> {
  let extensions: ReadonlyMap<string, Extension> = new Map();
  for (const field of rest) {
    if (field.tag === 0x81 || field.tag === 0x82) continue;
    if (field.tag !== 0xa3 || extensions.size) throw malformed(what, "unexpected field in TBSCertificate");
    if (version !== 2) throw malformed(what, "extensions in a certificate that is not v3 (§4.1.2.9)");
    const [list, ...more] = children(field, what);
    if (!list || more.length) throw malformed(what, "bad extensions");
    extensions = readExtensions(list, `${what} extensions`);
  }
  return extensions;
}

/** BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL } (§4.2.1.9). */
function basicConstraintsOf(ext: Extension | undefined): ReadCertificate["basicConstraints"] {
  if (!ext) return undefined;
  const w = `${what} basicConstraints`;
  const items = children(readOnly(ext.value, tag.sequence, w), w);
  let ca = false;
  let k = 0;
  if (items[k]?.tag === tag.boolean) ca = readBoolean(items[k++]!, w);
  const pathLength = items[k] ? readSmallInteger(items[k++]!, w) : undefined;
  if (k !== items.length) throw malformed(w, "wrong shape");
  return { ca, pathLength };
}

function keyCertSignOf(ext: Extension | undefined): boolean | undefined {
  if (!ext) return undefined;
  return namedBit(readBitString(readOnly(ext.value, tag.bitString, `${what} keyUsage`), "keyUsage"), 5);
}

function subjectKeyIdOf(ext: Extension | undefined): Uint8Array | undefined {
  if (!ext) return undefined;
  const w = `${what} subjectKeyIdentifier`;
  return readOctetString(readOnly(ext.value, tag.octetString, w), w);
}

/** AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING OPTIONAL, … } (§4.2.1.1). */
function authorityKeyIdOf(ext: Extension | undefined): Uint8Array | undefined {
  if (!ext) return undefined;
  const w = `${what} authorityKeyIdentifier`;
  const keyId = children(readOnly(ext.value, tag.sequence, w), w).find((t) => t.tag === 0x80);
  return keyId ? value(keyId) : undefined;
}
