/**
 * The OCSPResponse writer (RFC 6960 §4.2.1) on the DER writer. A responder is compiled once (its
 * ResponderID byKey, signature AlgorithmIdentifier and `certs` field precomputed), and each
 * SingleResponse is written once and kept by the caller, so a response signed for a nonce costs
 * one small concatenation and one signature.
 *
 * ResponderID is byKey (§4.2.2.3: the SHA-1 of the responder's subjectPublicKey BIT STRING
 * contents), which stays right when the responder certificate is renewed with the same name.
 * Times are GeneralizedTime in whole seconds (§4.2.2.1 and RFC 5280 §4.1.2.5.2). A revocation
 * reason is written unless it is `unspecified`, which RFC 5280 §5.3.1 asks to leave out.
 */
import { createHash } from "node:crypto";
import type { Signer } from "../crypto/index.js";
import { KeyfleetError } from "../domain/index.js";
import { bitString, explicit, generalizedTime, octetString, oid, sequence, tlv } from "./der.js";
import { revocationReasons, type RevocationReason } from "./crl-writer.js";
import { oid as oids } from "./oids.js";
import { readSubjectPublicKeyInfo } from "./spki.js";

/** OCSPResponseStatus (§4.2.1), with its ENUMERATED value (4 is unused). */
export const ocspResponseStatuses = {
  successful: 0,
  malformedRequest: 1,
  internalError: 2,
  tryLater: 3,
  sigRequired: 5,
  unauthorized: 6,
} as const;

export type OcspResponseStatus = keyof typeof ocspResponseStatuses;

export type CertStatus =
  | { readonly kind: "good" }
  | { readonly kind: "revoked"; readonly revokedAt: Date; readonly reason: RevocationReason }
  | { readonly kind: "unknown" };

export interface SingleResponseInput {
  /** The request's CertID, DER, repeated byte for byte. */
  readonly certId: Uint8Array;
  readonly status: CertStatus;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
}

export interface CompiledResponder {
  readonly signer: Signer;
  /** ResponderID byKey, DER. */
  readonly responderId: Uint8Array;
  /** `certs [0] EXPLICIT SEQUENCE OF Certificate`, or empty when the CA signs itself. */
  readonly certsField: Uint8Array;
}

const enumerated = (n: number): Uint8Array => tlv(0x0a, Uint8Array.of(n));

/** An unsuccessful OCSPResponse: just the status (§4.2.1: no responseBytes). */
export function ocspStatusResponse(status: Exclude<OcspResponseStatus, "successful">): Uint8Array {
  return sequence(enumerated(ocspResponseStatuses[status]));
}

/**
 * The responder that signs: its key, and the certificates a relying party needs to check it (a
 * delegated responder's own certificate, §4.2.2.2); none when the CA signs with its own key.
 */
export function compileResponder(signer: Signer, certificates: readonly Uint8Array[]): CompiledResponder {
  const key = readSubjectPublicKeyInfo(signer.publicKey, "the responder's public key").key;
  const keyHash = createHash("sha1").update(key).digest();
  return {
    signer,
    responderId: explicit(2, octetString(keyHash)),
    certsField: certificates.length ? explicit(0, sequence(...certificates)) : new Uint8Array(0),
  };
}

/** SingleResponse ::= SEQUENCE { certID, certStatus, thisUpdate, nextUpdate [0] EXPLICIT } (§4.2.1). */
export function singleResponse(r: SingleResponseInput): Uint8Array {
  if (r.nextUpdate.getTime() <= r.thisUpdate.getTime()) {
    throw new KeyfleetError("internal", "an OCSP response's nextUpdate must be after its thisUpdate");
  }
  return sequence(
    r.certId,
    certStatus(r.status),
    generalizedTime(r.thisUpdate),
    explicit(0, generalizedTime(r.nextUpdate)),
  );
}

function certStatus(s: CertStatus): Uint8Array {
  switch (s.kind) {
    case "good":
      return Uint8Array.of(0x80, 0); // good [0] IMPLICIT NULL
    case "unknown":
      return Uint8Array.of(0x82, 0); // unknown [2] IMPLICIT NULL
    case "revoked": // revoked [1] IMPLICIT RevokedInfo { revocationTime, revocationReason [0] EXPLICIT }
      return tlv(
        0xa1,
        generalizedTime(s.revokedAt),
        ...(s.reason === "unspecified" ? [] : [explicit(0, enumerated(revocationReasons[s.reason]))]),
      );
    default: {
      const unreachable: never = s;
      throw new KeyfleetError("internal", `unknown certificate status ${JSON.stringify(unreachable)}`);
    }
  }
}

const basicType = oid(oids.ocspBasic);
const nonceOid = oid(oids.ocspNonce);

/**
 * A successful OCSPResponse: BasicOCSPResponse over `responses` (SingleResponse DER), with the
 * request's nonce extension echoed when there was one (RFC 9654 §2.1, RFC 6960 §4.4.1).
 */
export async function writeOcspResponse(
  responder: CompiledResponder,
  input: {
    readonly producedAt: Date;
    readonly responses: readonly Uint8Array[];
    /** The request's nonce extnValue, as read. */
    readonly nonce?: Uint8Array | undefined;
  },
): Promise<Uint8Array> {
  const extensions =
    input.nonce === undefined ? [] : [explicit(1, sequence(sequence(nonceOid, octetString(input.nonce))))];
  const tbs = sequence(
    responder.responderId,
    generalizedTime(input.producedAt),
    sequence(...input.responses),
    ...extensions,
  );
  const signature = bitString(await responder.signer.sign(tbs));
  const basic = sequence(
    tbs,
    responder.signer.signatureAlgorithm.algorithmIdentifier,
    signature,
    responder.certsField,
  );
  return sequence(
    enumerated(ocspResponseStatuses.successful),
    explicit(0, sequence(basicType, octetString(basic))),
  );
}
