/**
 * What a published CRL is checked and served by, read without walking its entries (a CRL of a
 * million entries is read in microseconds): the signed part and its signature, checked under the
 * issuer's key before the CRL replaces the one in use, and its thisUpdate and nextUpdate, which
 * the HTTP caching headers come from, and its CRL Number, when a restart reads CRLs back from
 * their files.
 */
import { tag } from "./der.js";
import { checkSignature, type SignatureCheck } from "./certificate-signature.js";
import {
  expect,
  malformed,
  only,
  raw,
  readBitString,
  readExtensions,
  readIntegerMagnitude,
  readOnly,
  readTime,
  readTlv,
  type Tlv,
} from "./der-reader.js";
import { oid as oids } from "./oids.js";

export interface CrlHeader {
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /** Its CRL Number (RFC 5280 §5.2.3). */
  readonly number: bigint;
}

interface CrlParts {
  readonly tbs: Tlv;
  readonly algorithm: Tlv;
  readonly signature: Uint8Array;
}

const what = "the CRL";

function parts(der: Uint8Array): CrlParts {
  const outer = readOnly(der, tag.sequence, what);
  const tbs = expect(readTlv(der, outer.valueStart, outer.end, what), tag.sequence, `${what} tbsCertList`);
  const algorithm = expect(
    readTlv(der, tbs.end, outer.end, what),
    tag.sequence,
    `${what} signatureAlgorithm`,
  );
  const bits = readTlv(der, algorithm.end, outer.end, what);
  if (bits.end !== outer.end) throw malformed(what, "bytes after the signature");
  const signature = readBitString(bits, `${what} signature`);
  if (signature.unusedBits !== 0) throw malformed(what, "the signature is not whole octets");
  return { tbs, algorithm, signature: signature.bytes };
}

/** thisUpdate and nextUpdate (a CRL without nextUpdate is not one Keyfleet serves). */
export function readCrlHeader(der: Uint8Array): CrlHeader {
  const { tbs } = parts(der);
  const next = (t: Tlv) => readTlv(der, t.end, tbs.end, what);
  const version = readTlv(der, tbs.valueStart, tbs.end, what);
  if (version.tag !== tag.integer) throw malformed(what, "not a v2 CRL");
  const signature = next(version);
  const issuer = next(signature);
  const thisUpdate = next(issuer);
  const nextUpdate = next(thisUpdate);
  if (nextUpdate.tag !== tag.utcTime && nextUpdate.tag !== tag.generalizedTime) {
    throw malformed(what, "no nextUpdate");
  }
  // The entries are one SEQUENCE, stepped over whole: the extensions come after it.
  let rest = next(nextUpdate);
  if (rest.tag === tag.sequence) rest = next(rest);
  const extensions = readExtensions(
    only(expect(rest, 0xa0, `${what} crlExtensions`), what),
    `${what} crlExtensions`,
  );
  const number = extensions.get(oids.cRLNumber);
  if (!number) throw malformed(what, "no CRL Number");
  const magnitude = readIntegerMagnitude(readOnly(number.value, tag.integer, `${what} CRL Number`), what);
  return {
    thisUpdate: readTime(thisUpdate, `${what} thisUpdate`),
    nextUpdate: readTime(nextUpdate, `${what} nextUpdate`),
    number: BigInt(`0x${Buffer.from(magnitude).toString("hex")}`),
  };
}

/** Does the CRL's signature verify under the issuer's SubjectPublicKeyInfo? */
export function checkCrlSignature(der: Uint8Array, issuerSpki: Uint8Array): SignatureCheck {
  const p = parts(der);
  return checkSignature(raw(p.algorithm), raw(p.tbs), p.signature, issuerSpki);
}
