/**
 * The audit log's rows: leaves, the perfect-subtree nodes, the head (size and frontier, locked by
 * every append) and checkpoints. Made for an executor, so appends join the caller's transaction.
 * The tree math lives in `audit`; this file only moves hashes and entries in and out.
 */
import { sql, type Kysely } from "kysely";
import { hexCell, jsonRows } from "./json-rows.js";
import type { Tables } from "./schema.js";

export interface AuditHead {
  readonly size: number;
  readonly frontier: Uint8Array[];
}

export interface AuditLeafRow {
  readonly index: number;
  readonly entry: string;
}

export interface AuditLeafWithHash extends AuditLeafRow {
  /** The leaf hash stored with it. */
  readonly hash: Uint8Array;
}

export interface AuditNodeRef {
  readonly level: number;
  readonly index: number;
}

export interface AuditCheckpointRow {
  readonly size: number;
  readonly root: Uint8Array;
  readonly note: string;
  readonly createdAt: Date;
}

const HASH = 32;
const splitHashes = (bytes: Uint8Array): Uint8Array[] =>
  Array.from({ length: bytes.length / HASH }, (_, i) => bytes.slice(i * HASH, (i + 1) * HASH));
const joinHashes = (hashes: readonly Uint8Array[]): Uint8Array => Buffer.concat(hashes);

export function auditRepository(db: Kysely<Tables>) {
  return {
    /** The head, locked until the transaction ends: the one writer sequence of the log. */
    async lockHead(tx: Kysely<Tables>): Promise<AuditHead> {
      const row = await tx.selectFrom("audit_head").selectAll().forUpdate().executeTakeFirstOrThrow();
      return { size: Number(row.size), frontier: splitHashes(row.frontier) };
    },

    async head(): Promise<AuditHead> {
      const row = await db.selectFrom("audit_head").selectAll().executeTakeFirstOrThrow();
      return { size: Number(row.size), frontier: splitHashes(row.frontier) };
    },

    /** Writes leaves and the nodes they complete, and moves the head (locked by `lockHead`). */
    async append(
      tx: Kysely<Tables>,
      leaves: readonly { index: number; entry: string; hash: Uint8Array; subject: string }[],
      nodes: readonly { level: number; index: number; hash: Uint8Array }[],
      head: AuditHead,
    ): Promise<void> {
      // One statement each for leaves and nodes, however many (json-rows.ts).
      if (leaves.length > 0) {
        const cells = leaves.map((l) => [l.index, l.entry, hexCell(l.hash), l.subject]);
        await sql`insert into audit_leaves (idx, entry, hash, subject)
          select (r->>0)::bigint, r->>1, decode(r->>2, 'hex'), r->>3 from ${jsonRows(cells)}`.execute(tx);
      }
      // Level 0 is the leaves' own hash column; level 1 is two leaf hashes away (audit-log.ts).
      const inner = nodes.filter((n) => n.level > 1);
      if (inner.length > 0) {
        const cells = inner.map((n) => [n.level, n.index, hexCell(n.hash)]);
        await sql`insert into audit_nodes (level, idx, hash)
          select (r->>0)::smallint, (r->>1)::bigint, decode(r->>2, 'hex') from ${jsonRows(cells)}`.execute(
          tx,
        );
      }
      await tx
        .updateTable("audit_head")
        .set({ size: head.size, frontier: joinHashes(head.frontier) })
        .execute();
    },

    /**
     * The log's size and the hashes of these perfect subtrees (level 0: leaves), in one round trip;
     * a missing one is absent from the map. The size is a scalar subquery and each hash an index
     * probe per requested node, so the plan's cost stays in the hundreds whatever the log's size:
     * a join the planner may cost as a scan crosses jit_above_cost and JIT-compiles every proof
     * (≈ 500 ms each). The nodes go as one jsonb parameter (json-rows.ts).
     */
    async sizeAndNodes(
      refs: readonly AuditNodeRef[],
    ): Promise<{ size: number; nodes: Map<string, Uint8Array> }> {
      const cells = JSON.stringify(refs.map((r) => [r.level, r.index]));
      const { rows } = await sql<{
        size: string;
        level: number | null;
        idx: string | null;
        hash: Uint8Array | null;
      }>`
        select (select size from audit_head) as size, r.level, r.idx,
          case when r.level = 0 then (select l.hash from audit_leaves l where l.idx = r.idx)
               else (select n.hash from audit_nodes n where n.level = r.level and n.idx = r.idx) end as hash
        from (select 1) as always_one_row
        left join (select (c->>0)::smallint as level, (c->>1)::bigint as idx
                   from jsonb_array_elements(${cells}::jsonb) as c) as r on true`.execute(db);
      const nodes = new Map<string, Uint8Array>();
      for (const row of rows) if (row.hash) nodes.set(`${row.level}/${Number(row.idx)}`, row.hash);
      return { size: Number(rows[0]!.size), nodes };
    },

    /** Leaves from `from`, in order, at most `limit`. */
    async leaves(from: number, limit: number): Promise<AuditLeafRow[]> {
      const rows = await db
        .selectFrom("audit_leaves")
        .select(["idx", "entry"])
        .where("idx", ">=", from)
        .orderBy("idx")
        .limit(limit)
        .execute();
      return rows.map((r) => ({ index: Number(r.idx), entry: r.entry }));
    },

    /** Leaves from `from` with the leaf hash the log stored for each: what verification compares. */
    async leavesWithHashes(from: number, limit: number): Promise<AuditLeafWithHash[]> {
      const rows = await db
        .selectFrom("audit_leaves")
        .select(["idx", "entry", "hash"])
        .where("idx", ">=", from)
        .orderBy("idx")
        .limit(limit)
        .execute();
      return rows.map((r) => ({ index: Number(r.idx), entry: r.entry, hash: r.hash }));
    },

    /** The indexes of the leaves about `subject`, oldest first. */
    async leavesAbout(subject: string, limit: number): Promise<AuditLeafRow[]> {
      const rows = await db
        .selectFrom("audit_leaves")
        .select(["idx", "entry"])
        .where("subject", "=", subject)
        .orderBy("idx")
        .limit(limit)
        .execute();
      return rows.map((r) => ({ index: Number(r.idx), entry: r.entry }));
    },

    async insertCheckpoint(tx: Kysely<Tables>, c: Omit<AuditCheckpointRow, "createdAt">): Promise<boolean> {
      const inserted = await tx
        .insertInto("audit_checkpoints")
        .values({ size: c.size, root: c.root, note: c.note })
        .onConflict((oc) => oc.column("size").doNothing())
        .returning("size")
        .execute();
      return inserted.length > 0;
    },

    async latestCheckpoint(): Promise<AuditCheckpointRow | undefined> {
      const row = await db
        .selectFrom("audit_checkpoints")
        .selectAll()
        .orderBy("size", "desc")
        .limit(1)
        .executeTakeFirst();
      return row && checkpointOf(row);
    },

    /** Checkpoints from size `from` up, in order, at most `limit`. */
    async checkpoints(from: number, limit: number): Promise<AuditCheckpointRow[]> {
      const rows = await db
        .selectFrom("audit_checkpoints")
        .selectAll()
        .where("size", ">=", from)
        .orderBy("size")
        .limit(limit)
        .execute();
      return rows.map(checkpointOf);
    },
  };
}

function checkpointOf(row: {
  size: unknown;
  root: Uint8Array;
  note: string;
  created_at: Date;
}): AuditCheckpointRow {
  return { size: Number(row.size), root: row.root, note: row.note, createdAt: row.created_at };
}

export type AuditRepository = ReturnType<typeof auditRepository>;
