/**
 * When a certificate is renewed, the one rule the server and the agent share. By default at a
 * fraction of its lifetime (two thirds, as cert-manager and step-ca's renewer do), so that a third
 * of the lifetime is left for retries while the server is unreachable; where the device's policy
 * rule sets a cadence (`rotationDays`), that many days after the certificate's notBefore. Pure: the
 * validity in, a time out.
 */
import { KeyfleetError } from "./errors.js";

export const defaultRenewalFraction = 2 / 3;

export interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

const dayMs = 86_400_000;

export function checkRenewalFraction(fraction: number): number {
  if (!Number.isFinite(fraction) || fraction <= 0 || fraction >= 1) {
    throw new KeyfleetError(
      "invalid-configuration",
      `the renewal fraction must be between 0 and 1 (exclusive), not ${fraction}`,
    );
  }
  return fraction;
}

export function renewalTime(validity: Validity, fraction = defaultRenewalFraction): Date {
  checkRenewalFraction(fraction);
  const start = validity.notBefore.getTime();
  const lifetime = validity.notAfter.getTime() - start;
  if (!(lifetime > 0)) {
    throw new KeyfleetError("malformed-request", "the certificate's notAfter is not after its notBefore");
  }
  return new Date(start + Math.floor(lifetime * fraction));
}

/**
 * When the server holds a device's credential due: `rotationDays` after its notBefore when the
 * policy sets a cadence, else the agent's default. A cadence that reaches the certificate's expiry
 * or past it cannot be kept (an expired certificate renews nothing): the default applies then.
 */
export function rotationDueAt(validity: Validity, rotationDays: number | undefined): Date {
  const byDefault = renewalTime(validity);
  if (rotationDays === undefined) return byDefault;
  if (!Number.isInteger(rotationDays) || rotationDays < 1) {
    throw new KeyfleetError(
      "invalid-configuration",
      `rotationDays is a whole number of days ≥ 1, not ${rotationDays}`,
    );
  }
  const due = validity.notBefore.getTime() + rotationDays * dayMs;
  return due < validity.notAfter.getTime() ? new Date(due) : byDefault;
}
