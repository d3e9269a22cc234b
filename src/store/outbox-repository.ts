/**
 * The transactional outbox: events written in the transaction of the change they announce, read
 * by dependent services as a feed by position (and, later, dispatched to webhooks, NATS, MQTT).
 */
import { sql, type Insertable, type Kysely } from "kysely";
import { jsonRows } from "./json-rows.js";
import { pageLimit } from "./paging.js";
import type { OutboxRow, OutboxTable, Tables } from "./schema.js";

export function outboxRepository(db: Kysely<Tables>) {
  return {
    /** One statement however many rows (json-rows.ts). */
    async insert(rows: readonly Insertable<OutboxTable>[]): Promise<void> {
      if (rows.length === 0) return;
      const cells = rows.map((r) => [Number(r.position), r.id, r.type, r.subject, r.payload]);
      await sql`insert into outbox (position, id, type, subject, payload)
        select (r->>0)::bigint, r->>1, r->>2, r->>3, (r->>4)::jsonb from ${jsonRows(cells)}`.execute(db);
    },
    /** Events after `position`, oldest first. */
    async after(position: number, limit: number | undefined): Promise<OutboxRow[]> {
      return db
        .selectFrom("outbox")
        .selectAll()
        .where("position", ">", position)
        .orderBy("position")
        .limit(pageLimit(limit))
        .execute();
    },
  };
}

export type OutboxRepository = ReturnType<typeof outboxRepository>;
