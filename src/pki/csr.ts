/**
 * PKCS#10 certification requests (RFC 2986): strict parse and proof of possession. The envelope is
 * read with our own strict DER reader rather than @peculiar/asn1-csr: measured on this machine the
 * schema parser alone manages ≈4,500 CSRs/s, below the issuance budget; the reader is cross-checked
 * against asn1-csr in csr.test.ts.
 */
import {
  keyAlgorithms,
  signatureAlgorithmByOid,
  verifySignature,
  type KeyAlgorithmId,
  type SignatureAlgorithm,
} from "../crypto/algorithms.js";
import { KeyfleetError, quoted } from "../domain/index.js";
import { tag } from "./der.js";
import {
  children,
  expect,
  malformed,
  raw,
  readBitString,
  readOid,
  readOnly,
  readSmallInteger,
  type Tlv,
} from "./der-reader.js";
import { decodeAttributes, type RequestedExtension } from "./csr-attributes.js";
import { decodeName, type DistinguishedName } from "./name.js";
import type { SanEntry } from "./san.js";
import { checkPublicKey } from "./key-check.js";
import { limits } from "./limits.js";
import {
  decodeSubjectPublicKeyInfo,
  importSubjectPublicKey,
  keyAlgorithmOfSpki,
  type SubjectPublicKey,
} from "./spki.js";

export interface ParsedCsr {
  readonly der: Uint8Array;
  /** The certificationRequestInfo's DER: everything the request asks for, without its signature. */
  readonly requestInfo: Uint8Array;
  readonly subject: DistinguishedName;
  readonly subjectPublicKeyInfo: Uint8Array;
  readonly keyAlgorithm: KeyAlgorithmId;
  readonly sans: readonly SanEntry[];
  readonly requestedExtensions: readonly RequestedExtension[];
  /** basicConstraints cA=true, or keyUsage keyCertSign/cRLSign, was requested. */
  readonly requestsCa: boolean;
  /** PKCS#9 challengePassword (RFC 2985 §5.4.1). */
  readonly challengePassword?: string;
}

const WHAT = "the CSR";

// Names for signature algorithms people meet and the registry refuses, for a precise message.
const knownSignatureNames: Readonly<Record<string, string>> = {
  "1.2.840.113549.1.1.10": "RSASSA-PSS",
  "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
  "1.2.840.113549.1.1.4": "md5WithRSAEncryption",
  "1.2.840.10045.4.1": "ecdsa-with-SHA1",
  "1.2.840.10045.4.3.1": "ecdsa-with-SHA224",
  "1.3.101.113": "Ed448",
};

function signatureAlgorithmOf(t: Tlv): SignatureAlgorithm {
  const [algOid, parameters, ...extra] = children(expect(t, tag.sequence, WHAT), WHAT);
  if (!algOid || extra.length) throw malformed(WHAT, "signatureAlgorithm has the wrong shape");
  const id = readOid(algOid, WHAT);
  const algorithm = signatureAlgorithmByOid(id);
  if (!algorithm) {
    throw new KeyfleetError(
      "unsupported-algorithm",
      `the CSR is signed with ${knownSignatureNames[id] ?? quoted(id)}, which Keyfleet does not accept; sign it with ECDSA (SHA-2), Ed25519 or RSA PKCS#1 v1.5 (SHA-2)`,
    );
  }
  // RFC 5758 §3.2, RFC 8410 §3: no parameters; RFC 4055 §5: RSA has NULL (absent must be accepted too).
  const nullParams = parameters?.tag === tag.null && parameters.end === parameters.valueStart;
  if (parameters && !(algorithm.keyType === "rsa" && nullParams)) {
    throw malformed(WHAT, `signatureAlgorithm ${algorithm.id} has unexpected parameters`);
  }
  return algorithm;
}

interface Envelope {
  readonly info: Tlv;
  readonly fields: readonly Tlv[];
  readonly signatureAlgorithm: SignatureAlgorithm;
  readonly signature: Uint8Array;
}

function readEnvelope(input: Uint8Array): Envelope {
  if (input.length === 0) throw malformed(WHAT, "empty input");
  if (input.length > limits.csrOctets) {
    throw malformed(WHAT, `${input.length} octets; Keyfleet reads CSRs of at most ${limits.csrOctets}`);
  }
  const parts = children(readOnly(input, tag.sequence, WHAT), WHAT);
  if (parts.length !== 3)
    throw malformed(WHAT, `expected 3 elements in CertificationRequest, found ${parts.length}`);
  const [info, sigAlg, sigBits] = parts as [Tlv, Tlv, Tlv];
  const fields = children(expect(info, tag.sequence, WHAT), WHAT);
  if (fields.length < 3 || fields.length > 4) {
    throw malformed(WHAT, `expected 4 elements in CertificationRequestInfo, found ${fields.length}`);
  }
  if (readSmallInteger(fields[0]!, `${WHAT} version`) !== 0) throw malformed(WHAT, "version is not v1 (0)");
  const signature = readBitString(sigBits, `${WHAT} signature`);
  if (signature.unusedBits !== 0) throw malformed(WHAT, "signature has unused bits");
  return { info, fields, signatureAlgorithm: signatureAlgorithmOf(sigAlg), signature: signature.bytes };
}

/**
 * Parses a DER CSR and verifies its self-signature (proof of possession). Its size is checked
 * first, then its public key (key-check.ts), before anything else is read. Throws
 * `malformed-request` (bad DER, with the field; a part over its limit, limits.ts),
 * `unsupported-algorithm` (key or signature outside the registry), `weak-key` (a key that proves
 * nothing), `profile-violation` (subject attributes or SAN forms Keyfleet does not issue),
 * `bad-signature`.
 */
export function parseCsr(input: Uint8Array): ParsedCsr {
  const envelope = readEnvelope(input);
  const [, subjectTlv, spkiTlv, attributesTlv] = envelope.fields as [Tlv, Tlv, Tlv, Tlv | undefined];
  const spki = decodeSubjectPublicKeyInfo(spkiTlv, "the CSR's public key");
  const keyAlgorithm = keyAlgorithmOfSpki(spki, "the CSR's public key");
  checkPublicKey(spki, keyAlgorithm, "the CSR's public key");
  if (keyAlgorithms[keyAlgorithm].keyType !== envelope.signatureAlgorithm.keyType) {
    throw malformed(
      WHAT,
      `signed with ${envelope.signatureAlgorithm.id}, which does not fit its ${keyAlgorithm} key`,
    );
  }
  const subject = decodeName(subjectTlv, "the CSR's subject");
  const attributes = decodeAttributes(attributesTlv);
  const spkiDer = raw(spkiTlv).slice();
  verifyProofOfPossession(
    envelope.signatureAlgorithm,
    spkiDer,
    spki,
    keyAlgorithm,
    raw(envelope.info),
    envelope.signature,
  );
  return {
    der: input.slice(),
    requestInfo: raw(envelope.info).slice(),
    subject,
    subjectPublicKeyInfo: spkiDer,
    keyAlgorithm,
    ...attributes,
  };
}

/**
 * The proof-of-possession step on its own (the key already checked): `signature` over `signed`
 * verifies under the key, or `bad-signature`. Exported for the Wycheproof tests.
 */
export function verifyProofOfPossession(
  algorithm: SignatureAlgorithm,
  spkiDer: Uint8Array,
  spki: SubjectPublicKey,
  keyAlgorithm: KeyAlgorithmId,
  signed: Uint8Array,
  signature: Uint8Array,
): void {
  const publicKey = importSubjectPublicKey(spkiDer, spki, keyAlgorithm);
  if (!verifySignature(algorithm, signed, publicKey, signature)) {
    throw new KeyfleetError("bad-signature", "the CSR's signature does not verify with its own public key");
  }
}
