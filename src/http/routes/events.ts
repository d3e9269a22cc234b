/**
 * The event feed: what the outbox holds, oldest first, after a cursor, so dependent services can
 * follow device and certificate status changes (`after` = the `cursor` of the previous answer).
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Outbox } from "../../events/index.js";
import { checkMayReadEvents } from "../../policy/index.js";
import type { Authorize } from "../auth.js";
import { problemResponses } from "../schemas.js";

const eventSchema = {
  type: "object",
  properties: {
    position: { type: "integer", description: "the index of the event's audit leaf; grows in commit order" },
    id: { type: "string" },
    type: { type: "string" },
    subject: { type: "string" },
    payload: { type: "object", additionalProperties: true },
    createdAt: { type: "string", format: "date-time" },
  },
} as const;

export function eventRoutes(http: FastifyInstance, events: Outbox, authorize: Authorize): void {
  http.get<{ Querystring: { after?: number; limit?: number } }>(
    "/api/v1/events",
    {
      onRequest: authorize("event.read"),
      preHandler: async (r: FastifyRequest) => checkMayReadEvents(r.principal!),
      schema: {
        summary: "Events after a cursor, oldest first (device registered, device transitioned…)",
        tags: ["events"],
        querystring: {
          type: "object",
          properties: {
            after: {
              type: "integer",
              minimum: 0,
              description: "`cursor` of the previous answer; absent: from the first",
            },
            limit: { type: "integer", minimum: 1, maximum: 500 },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: "object",
            properties: {
              items: { type: "array", items: eventSchema },
              cursor: {
                type: ["integer", "null"],
                description: "pass as `after` next time; null: no event yet",
              },
            },
          },
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const page = await events.feed(request.query.after, request.query.limit);
      return {
        items: page.items.map((e) => ({ ...e, createdAt: e.createdAt.toISOString() })),
        cursor: page.cursor < 0 ? null : page.cursor,
      };
    },
  );
}
