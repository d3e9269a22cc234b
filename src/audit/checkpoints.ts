/**
 * Signed checkpoints of the audit log: the tree head (origin, size, root) as a C2SP signed note,
 * signed by the log's own Ed25519 key through the Signer port (never a CA key). The key is made on
 * first need, in custody (recorded before use, activated with the origin setting; purpose `audit`), and its name is the log's origin, fixed at that moment
 * ("<public host>/keyfleet/audit/<8 hex>", c2sp.org/tlog-checkpoint: a schema-less URL). A
 * checkpoint is signed when the log has grown past the latest one: by the periodic task, or on
 * demand (`keyfleet audit head`). Checkpoints are stored, append-only like the log.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { KeyCustody, KeyRef, KeyStore, KeyStoreKind } from "../crypto/index.js";
import { KeyfleetError, type Clock } from "../domain/index.js";
import {
  auditRepository,
  holdLock,
  keyRepository,
  settingsRepository,
  type AuditCheckpointRow,
  type Database,
  type Tx,
} from "../store/index.js";
import type { AuditLog } from "./audit-log.js";
import { ed25519KeyOf, signCheckpoint, verifierKey } from "./signed-note.js";

const PURPOSE = "audit";
const ORIGIN_SETTING = "audit.origin";

export interface CheckpointDeps {
  readonly database: Database;
  readonly clock: Clock;
  readonly keyStore: KeyStore;
  /** Where the log's key is generated: recorded before use, activated when it becomes the log's. */
  readonly custody: KeyCustody<Tx>;
  /** Where the log's key is generated when it is made: where the CA keys are (an HSM, if they are). */
  readonly keyStoreKind: () => Promise<KeyStoreKind>;
  readonly log: AuditLog;
  /** The authority's public URL: its host names the log when the log's key is made. */
  readonly publicUrl: () => Promise<string>;
}

export function auditCheckpoints(deps: CheckpointDeps) {
  const repository = auditRepository(deps.database.db);
  const keys = keyRepository(deps.database.db);
  const settings = settingsRepository(deps.database.db);

  async function recorded(): Promise<{ ref: KeyRef; name: string } | undefined> {
    const [row] = await keys.active(PURPOSE);
    const name = await settings.get(ORIGIN_SETTING);
    if (!row || name === undefined) return undefined;
    return { ref: { uri: row.uri, algorithm: "ed25519", publicKey: row.public_key }, name };
  }

  /** The log's key and name, made on first need; nodes that make one together keep the first. */
  async function key(): Promise<{ ref: KeyRef; name: string }> {
    const existing = await recorded();
    if (existing) return existing;
    const name = `${new URL(await deps.publicUrl()).host}/keyfleet/audit/${randomBytes(4).toString("hex")}`;
    // Generated and recorded `generated` before the transaction (the key store writes through its
    // own connection), activated in it under the lock, and discarded if another node's came first.
    const made = await deps.custody.generate({
      id: `key-audit-${randomUUID().slice(0, 8)}`,
      algorithm: "ed25519",
      label: "audit log",
      purpose: PURPOSE,
      store: await deps.keyStoreKind(),
      extractable: false,
    });
    let mine = false;
    try {
      mine = await deps.database.transaction(async (tx) => {
        await holdLock(tx, "audit-key");
        if ((await keyRepository(tx).active(PURPOSE)).length > 0) return false;
        await deps.custody.activate(tx, made);
        await settingsRepository(tx).set(tx, ORIGIN_SETTING, name, "system");
        return true;
      });
    } finally {
      if (!mine) await deps.custody.discard([made]).catch(() => undefined); // what is left, the key sweeper destroys
    }
    const found = await recorded();
    if (!found) throw new KeyfleetError("internal", "the audit log's key could not be recorded");
    return found;
  }

  return {
    /**
     * The latest checkpoint, signing one first if the log has grown past it (or none exists).
     * Returns the stored row: two nodes signing the same size keep the first signature.
     */
    async sign(): Promise<AuditCheckpointRow> {
      const latest = await repository.latestCheckpoint();
      const { size, root } = await deps.log.root();
      if (latest && latest.size >= size) return latest;
      const { ref, name } = await key();
      const signer = await deps.keyStore.signer(ref);
      const note = await signCheckpoint({ origin: name, size, root }, signer, name);
      await deps.database.transaction((tx) => repository.insertCheckpoint(tx, { size, root, note }));
      return (await repository.latestCheckpoint())!;
    },

    latest: () => repository.latestCheckpoint(),

    /** Checkpoints from size `from` up, oldest first. */
    list: (from: number, limit: number) => repository.checkpoints(from, limit),

    /** The verifier key string ("<name>+<hash>+<key>") anyone checks checkpoints with. */
    async verifierKey(): Promise<string> {
      const { ref, name } = await key();
      return verifierKey(name, ed25519KeyOf(ref.publicKey));
    },
  };
}

export type AuditCheckpoints = ReturnType<typeof auditCheckpoints>;
