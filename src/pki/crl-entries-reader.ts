/**
 * A CRL read whole by a relying party (RFC 5280 §5.1), a device checking peers with it: the
 * issuer's Name (DER, compared byte for byte), thisUpdate and nextUpdate, the CRL Number and, for
 * a delta, its base, and the entries by serial with their reason. Strict DER (der-reader.ts); a CRL
 * that does not parse fails as `malformed-request`. Its signature is checked by the caller under
 * the issuer it trusts (crl-reader.ts, checkCrlSignature), never taken on the CRL's word; the
 * publisher's reader (crl-reader.ts) reads the header alone, without walking the entries.
 */
import { tag } from "./der.js";
import {
  children,
  expect,
  malformed,
  raw,
  readBitString,
  readExtensions,
  readIntegerMagnitude,
  readOnly,
  readSmallInteger,
  readTime,
  value,
  type Tlv,
} from "./der-reader.js";
import { revocationReasons, type RevocationReason } from "./crl-writer.js";
import { oid } from "./oids.js";
import { distributionPointUris } from "./revocation-pointers.js";

export interface CrlEntryRead {
  readonly revokedAt: Date;
  readonly reason: RevocationReason | undefined;
}

export interface ReadCrl {
  readonly der: Uint8Array;
  readonly issuer: Uint8Array;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  readonly number: bigint | undefined;
  /** Set on a delta CRL (§5.2.4): the CRL Number of the full CRL it completes. */
  readonly deltaOf: bigint | undefined;
  /**
   * Its scope, the URIs its Issuing Distribution Point names (§5.2.5): it covers the certificates
   * whose CRL distribution point is one of them. Undefined without an IDP: all the issuer's.
   */
  readonly scope: readonly string[] | undefined;
  /** The entries by serial, hex in capitals without leading zeros (as openssl prints it). */
  readonly entries: ReadonlyMap<string, CrlEntryRead>;
}

const what = "the CRL";
const reasonNames = new Map<number, RevocationReason>(
  Object.entries(revocationReasons).map(([name, code]) => [code, name as RevocationReason]),
);

/** A serial as the entries key it: hex, capitals, no leading zeros ("0" for zero). */
export function serialKey(hex: string): string {
  return hex.toUpperCase().replace(/^0+(?=.)/, "");
}

const isTime = (t: Tlv | undefined): boolean => t?.tag === tag.utcTime || t?.tag === tag.generalizedTime;

function bigIntOf(t: Tlv, field: string): bigint {
  const bytes = readIntegerMagnitude(t, field);
  return BigInt(`0x${Buffer.from(bytes).toString("hex") || "0"}`);
}

export function readCrl(der: Uint8Array): ReadCrl {
  const [tbsTlv, sigAlg, sigValue, ...extra] = children(readOnly(der, tag.sequence, what), what);
  if (!tbsTlv || !sigAlg || !sigValue || extra.length)
    throw malformed(what, "CertificateList has the wrong shape");
  expect(tbsTlv, tag.sequence, what);
  expect(sigAlg, tag.sequence, what);
  const bits = readBitString(sigValue, `${what} signature`);
  if (bits.unusedBits !== 0) throw malformed(what, "the signature has unused bits");
  const fields = children(tbsTlv, what);
  let i = 0;
  if (fields[0]?.tag === tag.integer) {
    if (readSmallInteger(fields[0], `${what} version`) !== 1) throw malformed(what, "not a v2 CRL");
    i = 1;
  }
  const tbsSig = fields[i++];
  const issuer = fields[i++];
  const thisUpdate = fields[i++];
  if (!tbsSig || !issuer || !isTime(thisUpdate)) throw malformed(what, "TBSCertList has the wrong shape");
  if (Buffer.compare(raw(expect(tbsSig, tag.sequence, what)), raw(sigAlg)) !== 0) {
    throw malformed(what, "the two signature algorithms differ (RFC 5280 §5.1.1.2)");
  }
  const nextUpdate = isTime(fields[i]) ? readTime(fields[i++]!, `${what} nextUpdate`) : undefined;
  const entries = new Map<string, CrlEntryRead>();
  if (fields[i]?.tag === tag.sequence) {
    for (const entry of children(fields[i++]!, `${what} revokedCertificates`)) readEntry(entry, entries);
  }
  let number: bigint | undefined;
  let deltaOf: bigint | undefined;
  let scope: string[] | undefined;
  if (fields[i]?.tag === 0xa0) {
    const [list, ...more] = children(fields[i++]!, what);
    if (!list || more.length) throw malformed(what, "crlExtensions has the wrong shape");
    const extensions = readExtensions(list, `${what} extensions`);
    const numbered = extensions.get(oid.cRLNumber);
    if (numbered) number = bigIntOf(readOnly(numbered.value, tag.integer, what), `${what} CRL Number`);
    const delta = extensions.get(oid.deltaCRLIndicator);
    if (delta) deltaOf = bigIntOf(readOnly(delta.value, tag.integer, what), `${what} delta CRL indicator`);
    const idp = extensions.get(oid.issuingDistributionPoint);
    if (idp) {
      const point = children(readOnly(idp.value, tag.sequence, what), what).find((f) => f.tag === 0xa0);
      scope = distributionPointUris(point);
    }
  }
  if (i !== fields.length) throw malformed(what, "TBSCertList has unexpected fields");
  return {
    der,
    issuer: raw(expect(issuer, tag.sequence, what)),
    thisUpdate: readTime(thisUpdate!, `${what} thisUpdate`),
    nextUpdate,
    number,
    deltaOf,
    scope,
    entries,
  };
}

function readEntry(t: Tlv, into: Map<string, CrlEntryRead>): void {
  const field = `${what} entry`;
  const [serial, date, extensions, ...more] = children(expect(t, tag.sequence, field), field);
  if (!serial || !isTime(date) || more.length) throw malformed(field, "wrong shape");
  const key = serialKey(Buffer.from(readIntegerMagnitude(serial, field)).toString("hex"));
  let reason: RevocationReason | undefined;
  const code = extensions && readExtensions(extensions, field).get(oid.reasonCode);
  if (code) {
    const enumerated = readOnly(code.value, 0x0a, `${field} reasonCode`);
    reason = reasonNames.get(value(enumerated)[0] ?? -1);
    if (reason === undefined || value(enumerated).length !== 1) throw malformed(field, "unknown reasonCode");
  }
  into.set(key, { revokedAt: readTime(date!, field), reason });
}
