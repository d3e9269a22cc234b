/**
 * The OCSPRequest reader (RFC 6960 §4.1.1) on the strict DER reader: the CertIDs asked about and
 * the nonce (RFC 9654), nothing else acted on. Sizes and counts are bounded (limits.ts) before any
 * work, and every failure is `malformed-request`, which the responder answers as malformedRequest.
 *
 * Signed requests (optionalSignature, §4.1.2) are read and their signature ignored, always: the
 * status of a certificate is public (anyone may fetch the CRL), so a requestor's identity changes
 * nothing in the answer, and verifying it would cost a signature check per request for no effect.
 * Its shape is still checked, so a request that says it is signed is well formed.
 */
import { tag } from "./der.js";
import {
  boundedChildren,
  children,
  expect,
  malformed,
  only,
  raw,
  readExtensions,
  readIntegerMagnitude,
  readOctetString,
  readOid,
  readOnly,
  readSmallInteger,
  type Tlv,
} from "./der-reader.js";
import { limits } from "./limits.js";
import { oid } from "./oids.js";

export type CertIdHash = "sha1" | "sha256";

/** CertID ::= SEQUENCE { hashAlgorithm, issuerNameHash, issuerKeyHash, serialNumber } (§4.1.1). */
export interface CertId {
  readonly hashAlgorithm: CertIdHash;
  readonly issuerNameHash: Uint8Array;
  readonly issuerKeyHash: Uint8Array;
  /** The serial's unsigned big-endian magnitude. */
  readonly serial: Uint8Array;
  /** The CertID's own DER: a response repeats it byte for byte (§4.2.1), and it keys the cache. */
  readonly der: Uint8Array;
}

export interface OcspRequest {
  readonly certIds: readonly CertId[];
  /** The nonce extension's extnValue (the DER of the Nonce OCTET STRING), echoed as it came. */
  readonly nonce: Uint8Array | undefined;
  readonly signed: boolean;
}

const what = "the OCSP request";
const hashes: Readonly<Record<string, { readonly name: CertIdHash; readonly octets: number }>> = {
  [oid.sha1]: { name: "sha1", octets: 20 },
  [oid.sha256]: { name: "sha256", octets: 32 },
};

export function readOcspRequest(der: Uint8Array): OcspRequest {
  if (der.length > limits.ocspRequestOctets) {
    throw malformed(what, `${der.length} octets (at most ${limits.ocspRequestOctets})`);
  }
  const outer = children(readOnly(der, tag.sequence, what), what);
  if (outer.length < 1 || outer.length > 2) throw malformed(what, "OCSPRequest has the wrong shape");
  if (outer.length === 2) checkSignature(outer[1]!);
  const fields = children(expect(outer[0]!, tag.sequence, `${what} TBSRequest`), `${what} TBSRequest`);
  let at = 0;
  if (fields[at]?.tag === 0xa0) {
    const version = readSmallInteger(only(fields[at]!, what), `${what} version`);
    if (version !== 0) throw malformed(what, `version ${version + 1} (only v1 exists)`);
    at++;
  }
  if (fields[at]?.tag === 0xa1) at++; // requestorName: who asks changes nothing (see above)
  const list = fields[at++];
  if (!list) throw malformed(what, "no requestList");
  const requests = boundedChildren(
    expect(list, tag.sequence, `${what} requestList`),
    limits.ocspRequestCertIds,
    "CertIDs",
    `${what} requestList`,
  );
  if (requests.length === 0) throw malformed(what, "the requestList is empty");
  let nonce: Uint8Array | undefined;
  if (fields[at]?.tag === 0xa2) nonce = readNonce(only(fields[at++]!, what));
  if (at !== fields.length) throw malformed(what, "TBSRequest has unexpected fields");
  return { certIds: requests.map(readRequest), nonce, signed: outer.length === 2 };
}

/** Request ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0] EXPLICIT Extensions OPTIONAL } */
function readRequest(t: Tlv): CertId {
  const [reqCert, extensions, ...extra] = children(expect(t, tag.sequence, `${what} Request`), what);
  if (!reqCert || extra.length || (extensions && extensions.tag !== 0xa0)) {
    throw malformed(what, "Request has the wrong shape");
  }
  if (extensions) readExtensions(only(extensions, what), `${what} singleRequestExtensions`); // none acted on
  return readCertId(reqCert);
}

function readCertId(t: Tlv): CertId {
  const w = `${what} CertID`;
  const [algorithm, nameHash, keyHash, serial, ...extra] = children(expect(t, tag.sequence, w), w);
  if (!algorithm || !nameHash || !keyHash || !serial || extra.length) {
    throw malformed(w, "CertID has the wrong shape");
  }
  const [algOid, parameters, ...more] = children(expect(algorithm, tag.sequence, w), w);
  if (!algOid || more.length) throw malformed(w, "AlgorithmIdentifier has the wrong shape");
  const dotted = readOid(algOid, w);
  const hash = Object.hasOwn(hashes, dotted) ? hashes[dotted]! : undefined;
  if (!hash) throw malformed(w, `hash algorithm ${dotted} (SHA-1 or SHA-256 are answered)`);
  // RFC 3279 §2.2.1 / RFC 5754 §2: parameters absent or NULL; clients send either.
  if (parameters && (parameters.tag !== tag.null || parameters.end !== parameters.valueStart)) {
    throw malformed(w, "hash algorithm parameters must be absent or NULL");
  }
  const issuerNameHash = readOctetString(nameHash, `${w} issuerNameHash`);
  const issuerKeyHash = readOctetString(keyHash, `${w} issuerKeyHash`);
  if (issuerNameHash.length !== hash.octets || issuerKeyHash.length !== hash.octets) {
    throw malformed(w, `a ${hash.name} hash is ${hash.octets} octets`);
  }
  const magnitude = readIntegerMagnitude(serial, `${w} serialNumber`);
  if (magnitude.length > 20) throw malformed(w, "a serial number is at most 20 octets (RFC 5280 §4.1.2.2)");
  return { hashAlgorithm: hash.name, issuerNameHash, issuerKeyHash, serial: magnitude, der: raw(t) };
}

/** requestExtensions: the nonce is read (RFC 9654 §2.1); others are ignored, as §4.4 allows unless critical. */
function readNonce(t: Tlv): Uint8Array | undefined {
  const extensions = readExtensions(t, `${what} requestExtensions`);
  for (const ext of extensions.values()) {
    if (ext.critical && ext.oid !== oid.ocspNonce) {
      throw malformed(what, `critical request extension ${ext.oid} is not understood`);
    }
  }
  const ext = extensions.get(oid.ocspNonce);
  if (!ext) return undefined;
  const inner = readOctetString(readOnly(ext.value, tag.octetString, `${what} nonce`), `${what} nonce`);
  if (inner.length < 1 || inner.length > limits.ocspNonceOctets) {
    throw malformed(
      what,
      `a nonce of ${inner.length} octets (1 to ${limits.ocspNonceOctets}, RFC 9654 §2.1)`,
    );
  }
  return ext.value;
}

/** optionalSignature [0] EXPLICIT Signature: the shape is checked, the signature not verified (see above). */
function checkSignature(t: Tlv): void {
  const w = `${what} optionalSignature`;
  if (t.tag !== 0xa0) throw malformed(w, "expected [0]");
  const fields = children(expect(only(t, what), tag.sequence, w), w);
  if (fields.length < 2 || fields.length > 3) throw malformed(w, "Signature has the wrong shape");
  expect(fields[0]!, tag.sequence, w);
  expect(fields[1]!, tag.bitString, w);
  if (fields[2]) expect(fields[2], 0xa0, w);
}
