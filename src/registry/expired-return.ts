/**
 * A device that comes back after its certificate expired (issue 17 item 6). Its expired certificate
 * authenticates nothing, not even its own renewal (operational-certificate.ts): it re-authenticates
 * with its hardware identity (its IDevID, or the IDevID key's signature) or with a new bootstrap
 * token, which only an operator makes. The policy may bound how long after the expiry the hardware
 * identity alone is enough (an issuance rule's `expiredReturnDays`); past that, only an operator's
 * bootstrap token brings the device back. Never silently: the transition records the credential.
 */
import { KeyfleetError, quoted } from "../domain/index.js";
import type { IssuanceTerms } from "../policy/index.js";
import { certificateRepository, type Database, type DeviceRow } from "../store/index.js";

/** The credential a device enrolls with, as enrollment names it. */
export type EnrollingWith = "idevid" | "hardware-key" | "certificate" | "bootstrap-token";

export async function checkReturn(
  database: Database,
  row: DeviceRow,
  terms: IssuanceTerms,
  by: EnrollingWith | undefined,
  now: Date,
): Promise<void> {
  const grace = terms.expiredReturnSeconds;
  if (grace === undefined || (by !== "idevid" && by !== "hardware-key")) return;
  const [newest] = (await certificateRepository(database.db).list({ deviceId: row.id, limit: 1 })).items;
  if (!newest || newest.not_after.getTime() > now.getTime()) return; // not a return after expiry
  const since = now.getTime() - newest.not_after.getTime();
  if (since <= grace * 1000) return;
  const days = grace / 86_400;
  throw new KeyfleetError(
    "policy-violation",
    `policy version ${terms.policyVersion}, rule ${quoted(terms.rule ?? "")}: device ${quoted(row.id)}'s certificate ${newest.serial} expired at ${newest.not_after.toISOString()}, more than ${days} days ago; its IDevID alone no longer brings it back; a bootstrap token from an operator does`,
    {
      detail: {
        policyVersion: terms.policyVersion,
        rule: terms.rule,
        expiredAt: newest.not_after.toISOString(),
      },
    },
  );
}
