/**
 * OCSP as a client speaks it (RFC 6960): the request for one certificate (a CertID with SHA-1
 * hashes, as RFC 5019 §2.1.1 profiles it; no nonce, so a pre-signed response answers it), and the
 * response read strictly and checked: successful, a basic response, the single response for that
 * very CertID, signed by the issuer itself or by a responder the issuer certified for
 * id-kp-OCSPSigning (§4.2.2.2). Pure: bytes and time in, a verdict out.
 */
import { createHash } from "node:crypto";
import { KeyfleetError } from "../domain/index.js";
import * as der from "./der.js";
import { tag } from "./der.js";
import {
  children,
  expect,
  malformed,
  raw,
  readBitString,
  readIntegerMagnitude,
  readOctetString,
  readOid,
  readOnly,
  readTime,
  value,
  type Tlv,
} from "./der-reader.js";
import { readCertificate, type ReadCertificate } from "./certificate-reader.js";
import { checkSignature } from "./certificate-signature.js";
import { revocationReasons, type RevocationReason } from "./crl-writer.js";
import { oid } from "./oids.js";
import type { CertId } from "./ocsp-request.js";

const sha1 = "1.3.14.3.2.26";
const basicResponse = "1.3.6.1.5.5.7.48.1.1";
const what = "the OCSP response";

/** What a SHA-1 CertID a device asks with is made of (ocsp-request.ts reads the server's side). */
export type ClientCertId = Pick<CertId, "issuerNameHash" | "issuerKeyHash" | "serial">;

export interface OcspAnswer {
  readonly status: "good" | "revoked" | "unknown";
  readonly revokedAt?: Date | undefined;
  readonly reason?: RevocationReason | undefined;
  readonly producedAt: Date;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
}

const hash = (bytes: Uint8Array) => new Uint8Array(createHash("sha1").update(bytes).digest());

function subjectPublicKey(spki: Uint8Array): Uint8Array {
  const [, key] = children(readOnly(spki, tag.sequence, "the issuer's key"), "the issuer's key");
  if (!key) throw malformed("the issuer's key", "SubjectPublicKeyInfo has the wrong shape");
  return readBitString(key, "the issuer's key").bytes;
}

/** The CertID of the certificate `serialHex` that `issuer` issued (RFC 6960 §4.1.1). */
export function certIdFor(serialHex: string, issuer: ReadCertificate): ClientCertId {
  const hex = serialHex.replace(/^0+(?=.)/, "");
  return {
    issuerNameHash: hash(issuer.subject),
    issuerKeyHash: hash(subjectPublicKey(issuer.subjectPublicKeyInfo)),
    serial: new Uint8Array(Buffer.from(hex.length % 2 ? `0${hex}` : hex, "hex")),
  };
}

const certIdDer = (id: ClientCertId): Uint8Array =>
  der.sequence(
    der.sequence(der.oid(sha1), der.derNull),
    der.octetString(id.issuerNameHash),
    der.octetString(id.issuerKeyHash),
    der.integer(id.serial),
  );

/** OCSPRequest ::= SEQUENCE { tbsRequest SEQUENCE { requestList SEQUENCE OF Request { reqCert CertID } } }. */
export function writeOcspRequest(id: ClientCertId): Uint8Array {
  return der.sequence(der.sequence(der.sequence(der.sequence(certIdDer(id)))));
}

const statuses = [
  "successful",
  "malformedRequest",
  "internalError",
  "tryLater",
  "",
  "sigRequired",
  "unauthorized",
];
const reasonNames = new Map<number, RevocationReason>(
  Object.entries(revocationReasons).map(([name, code]) => [code, name as RevocationReason]),
);
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

/**
 * Reads `response` for the certificate `id` names, and checks its signature under `issuer` (or a
 * responder certificate it carries that `issuer` certified for OCSP signing, valid at `now`).
 */
export function readOcspResponse(
  response: Uint8Array,
  id: ClientCertId,
  issuer: ReadCertificate,
  now: Date,
): OcspAnswer {
  const [statusTlv, bytes, ...extra] = children(readOnly(response, tag.sequence, what), what);
  if (!statusTlv || extra.length) throw malformed(what, "OCSPResponse has the wrong shape");
  const status = value(expect(statusTlv, 0x0a, what))[0] ?? -1;
  if (status !== 0) {
    throw new KeyfleetError(
      "unavailable",
      `the OCSP responder answered ${statuses[status] || `status ${status}`}`,
    );
  }
  if (!bytes || bytes.tag !== 0xa0) throw malformed(what, "a successful response without responseBytes");
  const [type, octets] = children(expect(children(bytes, what)[0]!, tag.sequence, what), what);
  if (!type || !octets || readOid(type, what) !== basicResponse)
    throw malformed(what, "not a basic OCSP response");
  const [tbs, sigAlg, sigValue, certs] = children(
    readOnly(readOctetString(octets, what), tag.sequence, what),
    what,
  );
  if (!tbs || !sigAlg || !sigValue) throw malformed(what, "BasicOCSPResponse has the wrong shape");
  const signature = readBitString(sigValue, what).bytes;
  const carried = certs?.tag === 0xa0 ? children(children(certs, what)[0]!, what).map(raw) : [];
  checkSigner(raw(sigAlg), raw(tbs), signature, issuer, carried, now);
  const fields = children(expect(tbs, tag.sequence, what), what);
  const rest = fields[0]?.tag === 0xa0 ? fields.slice(1) : fields; // version v1 (the DEFAULT)
  const [, producedAt, responses] = rest;
  if (!producedAt || !responses) throw malformed(what, "ResponseData has the wrong shape");
  const single = children(expect(responses, tag.sequence, what), what).find((r) => matches(r, id));
  if (!single) throw malformed(what, "no response for the certificate asked about");
  return { producedAt: readTime(producedAt, what), ...readSingle(single) };
}

function matches(single: Tlv, id: ClientCertId): boolean {
  const [certId] = children(expect(single, tag.sequence, what), what);
  const [alg, nameHash, keyHash, serial] = children(expect(certId!, tag.sequence, what), what);
  if (!alg || !nameHash || !keyHash || !serial) throw malformed(what, "CertID has the wrong shape");
  return (
    readOid(children(alg, what)[0]!, what) === sha1 &&
    same(readOctetString(nameHash, what), id.issuerNameHash) &&
    same(readOctetString(keyHash, what), id.issuerKeyHash) &&
    same(readIntegerMagnitude(serial, what), id.serial)
  );
}

function readSingle(single: Tlv): Omit<OcspAnswer, "producedAt"> {
  const [, certStatus, thisUpdate, ...more] = children(single, what);
  if (!certStatus || !thisUpdate) throw malformed(what, "SingleResponse has the wrong shape");
  const next = more.find((f) => f.tag === 0xa0);
  const nextUpdate = next ? readTime(children(next, what)[0]!, what) : undefined;
  const times = { thisUpdate: readTime(thisUpdate, what), nextUpdate };
  if (certStatus.tag === 0x80) return { status: "good", ...times };
  if (certStatus.tag === 0x82) return { status: "unknown", ...times };
  if (certStatus.tag !== 0xa1) throw malformed(what, "unknown certStatus");
  const [revokedAt, reason] = children(certStatus, what);
  const code = reason?.tag === 0xa0 ? value(children(reason, what)[0]!)[0] : undefined;
  return {
    status: "revoked",
    revokedAt: readTime(revokedAt!, what),
    reason: code === undefined ? undefined : reasonNames.get(code),
    ...times,
  };
}

/** RFC 6960 §4.2.2.2: the issuer signed, or a responder it certified for id-kp-OCSPSigning. */
function checkSigner(
  algorithm: Uint8Array,
  tbs: Uint8Array,
  signature: Uint8Array,
  issuer: ReadCertificate,
  carried: readonly Uint8Array[],
  now: Date,
): void {
  if (checkSignature(algorithm, tbs, signature, issuer.subjectPublicKeyInfo) === "good") return;
  for (const bytes of carried) {
    const responder = readCertificate(bytes);
    const certified =
      same(responder.issuer, issuer.subject) &&
      checkSignature(
        responder.signatureAlgorithm,
        responder.tbs,
        responder.signature,
        issuer.subjectPublicKeyInfo,
      ) === "good" &&
      responder.notBefore.getTime() <= now.getTime() &&
      now.getTime() < responder.notAfter.getTime() &&
      signsOcsp(responder);
    if (certified && checkSignature(algorithm, tbs, signature, responder.subjectPublicKeyInfo) === "good")
      return;
  }
  throw new KeyfleetError(
    "bad-signature",
    "the OCSP response is signed neither by the certificate's issuer nor by a responder it certified for OCSP signing",
  );
}

function signsOcsp(responder: ReadCertificate): boolean {
  const eku = responder.extensions.get(oid.extKeyUsage);
  if (!eku) return false;
  const purposes = children(readOnly(eku.value, tag.sequence, "extKeyUsage"), "extKeyUsage");
  return purposes.some((p) => readOid(p, "extKeyUsage") === oid.ocspSigning);
}
