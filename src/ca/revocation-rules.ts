/**
 * What a revocation request does to a certificate's status (RFC 5280 §5.3.1), pure: the decision
 * `revocation.ts` then writes. A hold (certificateHold) is the one reversible status; every other
 * reason is final. Asking again for what is already so is no change (idempotent), never a second
 * record; asking to undo a final revocation, or to give it another reason, is refused.
 */
import { KeyfleetError, quoted } from "../domain/index.js";
import type { CertificateStatus } from "../store/index.js";

/** The reasons an operator may revoke for (RFC 5280 §5.3.1; removeFromCRL is a CRL's, not a revocation's). */
export const operatorReasons = [
  "keyCompromise",
  "cACompromise",
  "affiliationChanged",
  "superseded",
  "cessationOfOperation",
  "certificateHold",
  "privilegeWithdrawn",
] as const;
export type OperatorReason = (typeof operatorReasons)[number];

export function parseReason(value: string): OperatorReason {
  if (!(operatorReasons as readonly string[]).includes(value)) {
    throw new KeyfleetError(
      "malformed-request",
      `unknown revocation reason ${quoted(value)}; use one of ${operatorReasons.join(", ")}`,
    );
  }
  return value as OperatorReason;
}

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
