/**
 * Following the outbox from the CLI (`keyfleet events exec`): where the feed ends now, and the next
 * events of some types after a cursor, scanned on the side of the database so that a consumer of a
 * rare type does not carry every device transition over the control socket.
 */
import { eventTypes } from "../../events/index.js";
import { KeyfleetError, quoted } from "../../domain/index.js";
import { operation } from "./operation.js";

/** An event as the consumer hands it to its command. */
export interface FollowedEvent {
  readonly position: number;
  readonly id: string;
  readonly type: string;
  readonly subject: string;
  readonly payload: Record<string, unknown>;
  readonly createdAt: string;
}

/** Pages of the feed one call reads at most before it answers (with the cursor it reached). */
const pagesPerCall = 20;
const pageSize = 500;

export const eventOperations = {
  /** The cursor after every event there is now (positions are audit indexes: the log's size − 1). */
  "events.end": operation({
    run: async (app) => ({ cursor: (await app.audit.size()) - 1 }),
  }),

  /**
   * The first events of `types` after `after` (-1: from the first), with the cursor scanned to;
   * `end`: the scan reached the end of the feed (else ask again at once).
   */
  "events.after": operation({
    run: async (app, input: { after: number; types: readonly string[] }) => {
      const types = checkTypes(input.types);
      let cursor = input.after;
      for (let page = 0; page < pagesPerCall; page++) {
        const read = await app.events.feed(cursor, pageSize);
        cursor = read.cursor;
        const items: FollowedEvent[] = read.items
          .filter((e) => types.has(e.type))
          .map((e) => ({ ...e, createdAt: e.createdAt.toISOString() }));
        const end = read.items.length < pageSize;
        if (items.length > 0 || end) return { items, cursor, end };
      }
      return { items: [] as FollowedEvent[], cursor, end: false };
    },
  }),
};

function checkTypes(types: unknown): ReadonlySet<string> {
  const known: readonly string[] = eventTypes;
  if (!Array.isArray(types) || types.length === 0) {
    throw new KeyfleetError("malformed-request", "name the event types to follow with --type");
  }
  for (const t of types) {
    if (typeof t !== "string" || !known.includes(t)) {
      throw new KeyfleetError(
        "malformed-request",
        `unknown event type ${quoted(String(t))}; the outbox holds ${known.join(", ")}`,
      );
    }
  }
  return new Set(types as string[]);
}
