/**
 * Who signs the OCSP responses for one CA (its delegated responder, or the CA itself), and the
 * signing of one pre-signed response: a SingleResponse for one CertID, wrapped and signed without
 * a nonce (RFC 5019), with its validity and HTTP validator.
 */
import { createHash } from "node:crypto";
import type { KeyStore } from "../crypto/index.js";
import {
  compileResponder,
  singleResponse,
  writeOcspResponse,
  type CertStatus,
  type CompiledResponder,
} from "../pki/index.js";
import type { CertificateStatusRow, IssuerRepository, IssuerRow } from "../store/index.js";
import { reasonOf } from "./crl-producer.js";
import { issuerSigner } from "./issuer-keys.js";
import type { CachedResponse } from "./ocsp-cache.js";
import type { OcspDelegates } from "./ocsp-delegate.js";

export interface Signing {
  readonly issuerId: string;
  readonly responder: CompiledResponder;
  /** The responder that signs (a delegate's serial, or the CA's id). */
  readonly signedBy: string;
}

export async function signingOf(
  row: IssuerRow,
  deps: {
    readonly issuers: IssuerRepository;
    readonly keyStore: KeyStore;
    readonly delegates: OcspDelegates;
  },
): Promise<Signing> {
  const delegate = row.kind === "intermediate" ? await deps.delegates.current(row) : undefined;
  if (delegate) {
    return {
      issuerId: row.id,
      responder: compileResponder(delegate.signer, [delegate.certificate]),
      signedBy: delegate.serial,
    };
  }
  // No delegate yet (or a root, or a CA no longer issuing): the CA signs itself (RFC 6960 §4.2.2.2).
  const signer = await issuerSigner(deps.issuers, deps.keyStore, row);
  return { issuerId: row.id, responder: compileResponder(signer, []), signedBy: row.id };
}

/** The pre-signed response for one CertID, valid for `validityMs` from `now` (rounded down to the second). */
export async function signEntry(
  signing: Signing,
  entry: { readonly certId: Uint8Array; readonly serial: string; readonly status: CertStatus },
  now: Date,
  validityMs: number,
): Promise<CachedResponse> {
  const thisUpdate = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const nextUpdate = new Date(thisUpdate.getTime() + validityMs);
  const { certId, serial, status } = entry;
  const single = singleResponse({ certId, status, thisUpdate, nextUpdate });
  const response = await writeOcspResponse(signing.responder, {
    producedAt: thisUpdate,
    responses: [single],
  });
  const etag = `"${createHash("sha256").update(response).digest("base64url").slice(0, 22)}"`;
  return {
    issuerId: signing.issuerId,
    serial,
    status,
    single,
    response,
    thisUpdate,
    nextUpdate,
    signedBy: signing.signedBy,
    etag,
  };
}

export function statusOf(row: CertificateStatusRow | undefined): CertStatus {
  if (!row) return { kind: "unknown" };
  if (row.status === "good") return { kind: "good" };
  // revoked_at is set whenever the status is not good (certificate-repository.ts); the reason as a CRL gives it.
  const revokedAt = row.revokedAt!;
  return { kind: "revoked", revokedAt, reason: reasonOf(row) };
}
