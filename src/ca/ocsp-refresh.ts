/**
 * The OCSP cache's refresh: which pre-signed responses to sign again, and signing them. Due are
 * the entries of certificates whose status changed where the last refresh's snapshot did not see
 * it (`status_changes`), and, from memory alone, those signed by a responder that is no longer
 * the one or past half their validity. Database reads grow with the changes and the entries due,
 * not with the cache. A re-signed entry replaces the old one in place, so the next request (the
 * HTTP fast path included) gets the new answer.
 */
import type { Clock } from "../domain/index.js";
import { ocspRepository, type Database, type OcspRepository } from "../store/index.js";
import type { CachedResponse, OcspCache } from "./ocsp-cache.js";
import { signEntry, statusOf, type Signing } from "./ocsp-signing.js";

/** Statuses read per query while refreshing. */
const refreshBatch = 500;

export interface OcspRefreshDeps {
  readonly database: Database;
  readonly statuses: OcspRepository;
  readonly cache: OcspCache;
  readonly clock: Clock;
  readonly validityMs: number;
}

/**
 * Signs the due entries again with their current status (`signers`: who signs for each CA now;
 * a CA without one has its entries dropped, so its requests are answered unauthorized). Returns
 * how many were re-signed and the snapshot to follow from next time; throws, with the cursor not
 * advanced, when the database does not answer.
 */
export async function refreshEntries(
  deps: OcspRefreshDeps,
  signers: readonly Signing[],
  cursor: string,
): Promise<{ readonly resigned: number; readonly cursor: string }> {
  const { due, snapshot } = await dueEntries(deps, signers, cursor);
  const byIssuer = new Map<string, [string, CachedResponse][]>();
  for (const [key, entry] of due) {
    const list = byIssuer.get(entry.issuerId) ?? [];
    list.push([key, entry]);
    byIssuer.set(entry.issuerId, list);
  }
  const bySigner = new Map(signers.map((s) => [s.issuerId, s]));
  let resigned = 0;
  for (const [issuerId, list] of byIssuer) {
    const signing = bySigner.get(issuerId);
    for (let i = 0; i < list.length; i += refreshBatch) {
      const batch = list.slice(i, i + refreshBatch);
      if (!signing) {
        for (const [key] of batch) deps.cache.delete(key);
        continue;
      }
      const rows = await deps.statuses.statuses(issuerId, [...new Set(batch.map(([, e]) => e.serial))]);
      for (const [key, entry] of batch) {
        const certId = Buffer.from(key, "latin1");
        const status = statusOf(rows.get(entry.serial));
        deps.cache.set(
          key,
          await signEntry(
            signing,
            { certId, serial: entry.serial, status },
            deps.clock.now(),
            deps.validityMs,
          ),
        );
        resigned++;
      }
    }
  }
  return { resigned, cursor: snapshot };
}

async function dueEntries(
  deps: OcspRefreshDeps,
  signers: readonly Signing[],
  cursor: string,
): Promise<{ readonly due: Map<string, CachedResponse>; readonly snapshot: string }> {
  const since = await deps.database.transaction(async (tx) => {
    const read = ocspRepository(tx);
    await read.oneSnapshot();
    return read.changesSince(cursor);
  });
  const changed = new Set(since.changes.map((c) => `${c.issuerId}:${c.serial}`));
  const bySigner = new Map(signers.map((s) => [s.issuerId, s.signedBy]));
  const now = deps.clock.now().getTime();
  const due = new Map<string, CachedResponse>();
  for (const [key, entry] of deps.cache.entries()) {
    if (
      changed.has(`${entry.issuerId}:${entry.serial}`) ||
      bySigner.get(entry.issuerId) !== entry.signedBy ||
      now >= entry.thisUpdate.getTime() + deps.validityMs / 2
    ) {
      due.set(key, entry);
    }
  }
  return { due, snapshot: since.snapshot };
}
