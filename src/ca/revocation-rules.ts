/**
 * What a revocation request does to a certificate's status (RFC 5280 §5.3.1), pure: the decision
 * `revocation.ts` then writes. A hold (certificateHold) is the one reversible status; every other
 * reason is final. Asking again for what is already so is no change (idempotent), never a second
 * record; asking to undo a final revocation, or to give it another reason, is refused.
 */
import { KeyfleetError, type OperatorReason } from "../domain/index.js";
import type { CertificateStatus } from "../store/index.js";

/** What is asked: revoke (or hold, with certificateHold) for a reason, or lift a hold. */
export type StatusRequest =
  { readonly action: "revoke"; readonly reason: OperatorReason } | { readonly action: "release" };

export interface CurrentStatus {
  readonly serial: string;
  readonly status: CertificateStatus;
  readonly reason: string | null;
  readonly revokedAt: Date | null;
}

export type StatusDecision =
  | { readonly change: false }
  | { readonly change: true; readonly status: CertificateStatus; readonly reason: OperatorReason | null };

/** The change `request` makes to `current`; throws `conflict` for one no certificate may make. */
export function decideStatus(current: CurrentStatus, request: StatusRequest): StatusDecision {
  const what = `certificate ${current.serial}`;
  if (current.status === "revoked") {
    if (request.action === "revoke" && request.reason === current.reason) return { change: false };
    throw new KeyfleetError(
      "conflict",
      `${what} was revoked (${current.reason ?? "unspecified"}) at ${current.revokedAt?.toISOString() ?? "?"}: a revocation is final`,
      { detail: { status: current.status, reason: current.reason } },
    );
  }
  if (request.action === "release") {
    return current.status === "hold" ? { change: true, status: "good", reason: null } : { change: false };
  }
  if (request.reason === "certificateHold") {
    return current.status === "hold"
      ? { change: false }
      : { change: true, status: "hold", reason: request.reason };
  }
  // A hold may become a revocation for any reason (RFC 5280 §5.3.1: a held certificate may be revoked).
  return { change: true, status: "revoked", reason: request.reason };
}
