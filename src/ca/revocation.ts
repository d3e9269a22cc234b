/**
 * Revocation records (issue 17, DESIGN §3): a certificate revoked, put on hold or released, inside
 * the caller's transaction — the certificate's status, its `status_changes` row (the CRL and OCSP
 * producers' work), its audit leaf and its outbox event, together or not at all. It never builds a
 * CRL: the publisher does that from the records, off the request path, so a revocation costs the
 * same with none or a million revoked. Deciding who may is the caller's (the registry's).
 */
import type { AuditLog } from "../audit/index.js";
import type { EvidenceRef } from "../domain/index.js";
import type { Outbox } from "../events/index.js";
import { revocationRepository, type CertificateRow, type Tx } from "../store/index.js";
import { certificateOf, type IssuedCertificate } from "./certificate.js";
import { decideStatus, type StatusRequest } from "./revocation-rules.js";

export interface RevocationDeps {
  readonly audit: AuditLog;
  readonly outbox: Outbox;
}

export interface StatusOrder {
  readonly request: StatusRequest;
  readonly actor: string;
  readonly at: Date;
  /** When the key is known or suspected compromised (RFC 5280 §5.3.2); a revocation's only. */
  readonly invalidityDate?: Date | undefined;
  readonly evidence?: readonly EvidenceRef[] | undefined;
  /** Why, in the operator's words: in the audit leaf and the event. */
  readonly comment?: string | undefined;
}

export interface StatusOutcome {
  readonly certificate: IssuedCertificate;
  /** False when the certificate already had the status asked for: nothing was written. */
  readonly changed: boolean;
}

/** Applies `order` to the certificate `row`, locked by the caller in `tx`. */
export async function changeStatus(
  deps: RevocationDeps,
  tx: Tx,
  row: CertificateRow,
  order: StatusOrder,
): Promise<StatusOutcome> {
  const decision = decideStatus(
    { serial: row.serial, status: row.status, reason: row.revocation_reason, revokedAt: row.revoked_at },
    order.request,
  );
  if (!decision.change) return { certificate: certificateOf(row), changed: false };
  const revoking = decision.status !== "good";
  // A hold turned into a revocation keeps the hold's time (RFC 5280 §5.3.1: the revocation date is
  // when the certificate stopped being good).
  const revokedAt = revoking ? (row.status === "hold" ? row.revoked_at! : order.at) : null;
  const invalidityDate = revoking && decision.status === "revoked" ? (order.invalidityDate ?? null) : null;
  const evidence = (order.evidence ?? []).map((e) => ({ ...e }));
  const change = {
    issuerId: row.issuer_id,
    serial: row.serial,
    status: decision.status,
    reason: decision.reason,
    revokedAt,
    invalidityDate,
    actor: order.actor,
    evidence,
  };
  const records = revocationRepository(tx);
  await records.setStatus(change);
  await records.record([change]);
  const type =
    decision.status === "good"
      ? ("certificate.released" as const)
      : decision.status === "hold"
        ? ("certificate.held" as const)
        : ("certificate.revoked" as const);
  const facts = {
    serial: row.serial,
    issuer: row.issuer_id,
    device: row.device_id,
    from: row.status,
    to: decision.status,
    reason: decision.reason,
    revokedAt: revokedAt?.toISOString() ?? null,
    invalidityDate: invalidityDate?.toISOString() ?? null,
    evidence,
    comment: order.comment ?? null,
  };
  const subject = `certificate:${row.serial}`;
  const [position] = await deps.audit.append(tx, [
    { type, actor: order.actor, subject, details: facts, time: order.at },
  ]);
  await deps.outbox.publish(tx, [{ position: position!, type, subject, payload: facts }]);
  const after: CertificateRow = {
    ...row,
    status: decision.status,
    revocation_reason: decision.reason,
    revoked_at: revokedAt,
    invalidity_date: invalidityDate,
  };
  return { certificate: certificateOf(after), changed: true };
}
