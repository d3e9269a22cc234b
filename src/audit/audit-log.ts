/**
 * The audit log: `append(tx, events)` joins the caller's transaction, so a change and its leaves
 * commit or roll back together; the head row's lock (taken first) makes every append one step of a
 * single sequence, so indexes have no gaps and no duplicates however many writers there are. Reads
 * (roots, proofs, entries) are at any size up to the current one: a perfect subtree never changes
 * once written, so the nodes a past tree needs are all still there.
 */
import { KeyfleetError, type Clock } from "../domain/index.js";
import { auditRepository, type AuditLeafRow, type Database, type Tx } from "../store/index.js";
import { decodeEntry, encodeEntry, entryOf, type AuditEntry, type AuditEvent } from "./entry.js";
import {
  appendLeaves,
  consistencyRanges,
  inclusionPlan,
  leafHash,
  readPlan,
  type ReadPlan,
} from "./merkle.js";

const utf8 = (text: string) => new TextEncoder().encode(text);

/** Entries encoded and hashed, not yet appended (`prepare`). */
export interface PreparedEntries {
  readonly prepared: readonly {
    readonly entry: string;
    readonly hash: Uint8Array;
    readonly subject: string;
  }[];
}

export interface InclusionProof {
  readonly index: number;
  readonly size: number;
  readonly leafHash: Uint8Array;
  readonly proof: Uint8Array[];
}

/** At most this many entries per read (export pages, API pages). */
export const maxEntriesPerRead = 1000;

export function auditLog(deps: { readonly database: Database; readonly clock: Clock }) {
  const repository = auditRepository(deps.database.db);

  /**
   * The hashes a read plan needs, in one round trip that also reads the log's size: a tree of
   * `size` is refused once the query shows the log is smaller (the nodes it read are then unused).
   */
  async function read(plan: ReadPlan, size: number): Promise<Uint8Array[]> {
    const stored = await repository.sizeAndNodes(plan.nodes);
    if (size > stored.size) throw notASize(size, stored.size);
    return plan.fold(({ level, index }) => {
      const hash = stored.nodes.get(`${level}/${index}`);
      if (!hash) throw new KeyfleetError("log-inconsistent", `audit node ${level}/${index} is missing`);
      return hash;
    });
  }

  /** A size no log has (negative, fractional, unsafe); one larger than this log is refused by `read`. */
  function checkSize(size: number): void {
    if (!Number.isSafeInteger(size) || size < 0) throw notASize(size);
  }

  /** The events' entries and leaf hashes: the pure half of an append, which needs no lock. */
  function prepare(events: readonly AuditEvent[]): PreparedEntries {
    const now = deps.clock.now();
    return {
      prepared: events.map((event) => {
        const entry = encodeEntry(entryOf(event, now));
        return { entry, hash: leafHash(utf8(entry)), subject: event.subject };
      }),
    };
  }

  async function append(tx: Tx, events: readonly AuditEvent[] | PreparedEntries): Promise<number[]> {
    const { prepared } = "prepared" in events ? events : prepare(events);
    if (prepared.length === 0) return [];
    const head = await repository.lockHead(tx);
    const leaves = prepared.map((p, i) => ({ ...p, index: head.size + i }));
    const { nodes, frontier } = appendLeaves(
      head.size,
      head.frontier,
      leaves.map((l) => l.hash),
    );
    await repository.append(tx, leaves, nodes, { size: head.size + leaves.length, frontier });
    return leaves.map((l) => l.index);
  }

  return {
    /**
     * Appends the events' entries (or entries `prepare`d from them) in order, inside `tx`; returns
     * their indexes.
     */
    append,

    /**
     * Encodes and hashes entries ahead of `append`, e.g. while the change they record is in flight
     * to the database; their time is the time of this call.
     */
    prepare,

    /** Appends events in a transaction of their own (an event that changes nothing else: a refusal). */
    record(events: readonly AuditEvent[]): Promise<number[]> {
      return deps.database.transaction((tx) => append(tx, events));
    },

    /** The stored head: size and frontier. */
    head: () => repository.head(),

    async size(): Promise<number> {
      return (await repository.head()).size;
    },

    /** The root of the tree of `size` entries (the current size by default). */
    async root(size?: number): Promise<{ size: number; root: Uint8Array }> {
      const n = size ?? (await repository.head()).size;
      checkSize(n);
      const [root] = await read(readPlan([{ start: 0, end: n }]), n);
      return { size: n, root: root! };
    },

    /** RFC 9162 inclusion proof of entry `index` in the tree of `size` entries. */
    async inclusionProof(index: number, size: number): Promise<InclusionProof> {
      checkSize(size);
      if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
        throw new KeyfleetError(
          "malformed-request",
          `entry ${index} is not in a tree of ${size} entries (indexes are 0 to ${size - 1})`,
        );
      }
      const [leaf, ...proof] = await read(inclusionPlan(index, size), size);
      return { index, size, leafHash: leaf!, proof };
    },

    /** RFC 9162 consistency proof that the tree of `size2` extends the tree of `size1`. */
    async consistencyProof(size1: number, size2: number): Promise<Uint8Array[]> {
      checkSize(size2);
      if (!Number.isSafeInteger(size1) || size1 < 1 || size1 > size2) {
        throw new KeyfleetError(
          "malformed-request",
          `a consistency proof to size ${size2} starts at a size from 1 to ${size2}, not at ${size1}`,
        );
      }
      return read(readPlan(consistencyRanges(size1, size2)), size2);
    },

    /** Entries from `from`, in order, at most `limit` (≤ maxEntriesPerRead). */
    async entries(
      from: number,
      limit: number,
    ): Promise<{ index: number; entry: AuditEntry; text: string }[]> {
      const rows = await repository.leaves(from, Math.min(limit, maxEntriesPerRead));
      return rows.map(decoded);
    },

    /** Entries from `from` as stored, with their stored leaf hashes (for `keyfleet audit verify`). */
    async stored(from: number, limit: number) {
      return repository.leavesWithHashes(from, Math.min(limit, maxEntriesPerRead));
    },

    /** The entries about `subject` ("certificate:<serial>"…), oldest first. */
    async entriesAbout(subject: string): Promise<{ index: number; entry: AuditEntry; text: string }[]> {
      return (await repository.leavesAbout(subject, maxEntriesPerRead)).map(decoded);
    },

    /**
     * The entry that records the issuance of the certificate with this serial (hex, normalized).
     * The subject column is only an index: the entry itself must say it is about this certificate.
     */
    async issuanceOf(serial: string): Promise<{ index: number; entry: AuditEntry; text: string }> {
      const subject = `certificate:${serial}`;
      const found = (await repository.leavesAbout(subject, maxEntriesPerRead))
        .map(decoded)
        .find(
          (e) =>
            e.entry.type === "certificate.issued" &&
            e.entry.subject === subject &&
            e.entry.details.serial === serial,
        );
      if (!found) throw new KeyfleetError("not-found", `the audit log records no certificate ${serial}`);
      return found;
    },
  };
}

function notASize(size: number, logSize?: number): KeyfleetError {
  const has = logSize === undefined ? "" : `, which has ${logSize} entries`;
  return new KeyfleetError("malformed-request", `tree size ${size} is not a size of the audit log${has}`);
}

/** A stored entry, decoded; one that does not decode is the log's fault, not the caller's. */
function decoded(row: AuditLeafRow) {
  try {
    return { index: row.index, entry: decodeEntry(row.entry, `audit entry ${row.index}`), text: row.entry };
  } catch (e) {
    throw new KeyfleetError("log-inconsistent", (e as Error).message, { cause: e });
  }
}

export type AuditLog = ReturnType<typeof auditLog>;
