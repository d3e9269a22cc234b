/**
 * Key custody on the keys table (the KeyCustody port of crypto/key-custody.ts). A destruction is
 * three steps, each safe to repeat: the record is claimed as `destroying` (activation is refused
 * from then on), the key is destroyed in its store (idempotent), and the record becomes `destroyed`
 * in one transaction with its `key.destroyed` audit leaf. A crash between them leaves the record
 * `destroying`, and the next sweep finishes it; two sweepers write one leaf.
 */
import { createHash } from "node:crypto";
import type { AuditLog } from "../audit/index.js";
import type { CustodyKey, KeyCustody, KeyStoreRouter, KeyToGenerate } from "../crypto/index.js";
import { KeyfleetError, type Clock } from "../domain/index.js";
import { keyRepository, type Database, type KeyRow, type Tx } from "../store/index.js";
import { keyRefOf } from "./issuer-keys.js";

/** How long a key may stay `generated` before the sweeper takes it for a crash's orphan. */
export const keyGraceSeconds = 3600;
/** Keys claimed per sweeper transaction. */
const claimBatch = 100;

export interface KeyCustodyDeps {
  readonly database: Database;
  readonly keyStore: KeyStoreRouter;
  readonly clock: Clock;
  readonly audit: AuditLog;
  readonly graceSeconds?: number;
}

type Reason = "not-established" | "not-established-within-grace";

export function keyCustody(deps: KeyCustodyDeps): KeyCustody<Tx> {
  const keys = keyRepository(deps.database.db);
  const grace = deps.graceSeconds ?? keyGraceSeconds;

  /** Destroys claimed keys one by one; returns how many this call recorded destroyed. */
  async function destroy(rows: readonly KeyRow[], reason: Reason): Promise<number> {
    let recorded = 0;
    const failures: unknown[] = [];
    for (const row of rows) {
      try {
        await deps.keyStore.destroy(keyRefOf(row));
        const mine = await deps.database.transaction(async (tx) => {
          if (!(await keys.destroyedIn(tx, row.id, deps.clock.now()))) return false;
          await deps.audit.append(tx, [destroyedEvent(row, reason)]);
          return true;
        });
        if (mine) recorded++;
      } catch (e) {
        failures.push(e); // the record stays `destroying`: the next sweep tries again
      }
    }
    if (failures.length > 0) throw failures[0];
    return recorded;
  }

  return {
    async generate(key: KeyToGenerate): Promise<CustodyKey> {
      const { id, ...spec } = key;
      const ref = await deps.keyStore.generate(spec);
      try {
        await keys.insertGenerated(
          {
            id,
            algorithm: ref.algorithm,
            store: spec.store,
            uri: ref.uri,
            public_key: ref.publicKey,
            purpose: key.purpose,
          },
          deps.clock.now(),
        );
      } catch (e) {
        await deps.keyStore.destroy(ref).catch(() => undefined); // no record names it: nothing could use it
        throw e;
      }
      return { ...ref, id, store: spec.store };
    },

    async activate(tx: Tx, key: CustodyKey): Promise<void> {
      if (!(await keys.activate(tx, key.id))) {
        throw new KeyfleetError(
          "conflict",
          `key ${key.id} is no longer awaiting use (a key not established within ${grace} s is destroyed): try again`,
        );
      }
    },

    async discard(list: readonly CustodyKey[]): Promise<void> {
      const ids = list.map((k) => k.id);
      const claimed = await deps.database.transaction((tx) => keys.claimGenerated(tx, ids));
      await destroy(claimed, "not-established");
    },

    async sweep(): Promise<number> {
      const generatedBefore = new Date(deps.clock.now().getTime() - grace * 1000);
      let destroyed = 0;
      for (let after = ""; ;) {
        const batch = await deps.database.transaction((tx) =>
          keys.claimUnestablished(tx, deps.keyStore.kinds, generatedBefore, after, claimBatch),
        );
        destroyed += await destroy(batch, "not-established-within-grace");
        if (batch.length < claimBatch) return destroyed;
        after = batch[batch.length - 1]!.id;
      }
    },
  };
}

function destroyedEvent(row: KeyRow, reason: Reason) {
  return {
    type: "key.destroyed" as const,
    actor: "system",
    subject: `key:${row.id}`,
    details: {
      id: row.id,
      purpose: row.purpose,
      algorithm: row.algorithm,
      keyStore: row.store,
      publicKeySha256: createHash("sha256").update(row.public_key).digest("hex"),
      generatedAt: row.created_at.toISOString(),
      reason,
    },
  };
}
