/**
 * The reasons an operator may revoke a certificate for (RFC 5280 §5.3.1), named as the RFC names
 * them; removeFromCRL is a delta CRL's, not a revocation's, and unspecified says nothing. Pure and
 * light: the CLI checks `--reason` with it before it opens anything.
 */
import { KeyfleetError, quoted } from "./errors.js";

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
