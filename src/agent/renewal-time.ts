/**
 * When a certificate is renewed: at a fraction of its lifetime (default two thirds, as cert-manager
 * and step-ca's renewer do), so that a third of the lifetime is left for retries while the server is
 * unreachable. Pure: the validity in, a time out.
 */
import { KeyfleetError } from "../domain/index.js";

export const defaultRenewalFraction = 2 / 3;

export interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

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
