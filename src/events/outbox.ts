/**
 * Events that dependent services follow (a device suspended, a certificate revoked), written to the
 * outbox in the transaction of the change they announce, so an event exists exactly when its
 * change does. Each event's position is the index of its audit leaf: positions grow in commit
 * order, and every event can be proved in the audit log.
 */
import { randomUUID } from "node:crypto";
import { KeyfleetError } from "../domain/index.js";
import { outboxRepository, type Database, type OutboxRow, type Tx } from "../store/index.js";

/** Every type of event the outbox holds (a consumer naming another is refused, not left waiting). */
export const eventTypes = [
  "device.registered",
  "device.transitioned",
  "device.rotation-requested",
  "certificate.revoked",
  "certificate.held",
  "certificate.released",
  "crl.published",
] as const;

export type EventType = (typeof eventTypes)[number];

export interface OutboxEvent {
  /** The index of the audit leaf that records the same change. */
  readonly position: number;
  readonly type: EventType;
  /** What it is about: `device:<id>`, `certificate:<serial>`, `ca:<id>`. */
  readonly subject: string;
  readonly payload: Record<string, unknown>;
}

export interface PublishedEvent extends OutboxEvent {
  readonly id: string;
  readonly createdAt: Date;
}

export interface EventPage {
  readonly items: PublishedEvent[];
  /** The position to pass as `after` next time (the last one read, or `after` itself when none). */
  readonly cursor: number;
}

export function outbox(database: Database) {
  const reader = outboxRepository(database.db);
  return {
    /** Writes events inside `tx`; returns their ids. */
    async publish(tx: Tx, events: readonly OutboxEvent[]): Promise<string[]> {
      const rows = events.map((e) => ({
        position: e.position,
        id: randomUUID(),
        type: e.type,
        subject: e.subject,
        payload: JSON.stringify(e.payload),
      }));
      await outboxRepository(tx).insert(rows);
      return rows.map((r) => r.id);
    },

    /** The events after position `after` (absent: from the first), oldest first. */
    async feed(after: number | undefined, limit: number | undefined): Promise<EventPage> {
      const from = after ?? -1;
      if (!Number.isSafeInteger(from) || from < -1) {
        throw new KeyfleetError("malformed-request", "after must be the cursor of an earlier page of events");
      }
      const items = (await reader.after(from, limit)).map(eventOf);
      return { items, cursor: items.length > 0 ? items[items.length - 1]!.position : from };
    },
  };
}

export type Outbox = ReturnType<typeof outbox>;

function eventOf(row: OutboxRow): PublishedEvent {
  return {
    position: Number(row.position),
    id: row.id,
    type: row.type as EventType,
    subject: row.subject,
    payload: row.payload as Record<string, unknown>,
    createdAt: row.created_at,
  };
}
