/**
 * The transactional outbox: events written in the transaction of the change they announce, read
 * by dependent services as a feed by position (and, later, dispatched to webhooks, NATS, MQTT).
 */
import type { Insertable, Kysely } from "kysely";
import { pageLimit } from "./paging.js";
import type { OutboxRow, OutboxTable, Tables } from "./schema.js";

export function outboxRepository(db: Kysely<Tables>) {
  return {
    async insert(rows: readonly Insertable<OutboxTable>[]): Promise<void> {
      if (rows.length > 0)
        await db
          .insertInto("outbox")
          .values([...rows])
          .execute();
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
