/**
 * Device groups: each (tenant, group) that registered devices name, with its number of devices.
 * The registry authorizes the call (role and scope: a scoped token sees the groups with devices in
 * its scope, counted inside it); the route-level check refuses a token without the permission.
 */
import type { FastifyInstance } from "fastify";
import { callerOf } from "../../policy/index.js";
import { deviceAttributeRules, groupJson, type Registry } from "../../registry/index.js";
import type { Authorize } from "../auth.js";
import { problemResponses } from "../schemas.js";

const groupSchema = {
  type: "object",
  properties: {
    tenant: { type: "string" },
    name: { type: "string", pattern: deviceAttributeRules.groupPattern.source },
    createdAt: { type: "string", format: "date-time" },
    devices: { type: "integer", minimum: 1, description: "devices in the group, inside the token's scope" },
  },
} as const;

export function groupRoutes(http: FastifyInstance, registry: Registry, authorize: Authorize): void {
  http.get<{ Querystring: { after?: string; limit?: number } }>(
    "/api/v1/groups",
    {
      onRequest: authorize("device.read"),
      schema: {
        summary:
          "Device groups by tenant and name, each with its number of devices, inside the token's scope",
        tags: ["devices"],
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            after: {
              type: "string",
              minLength: 1,
              maxLength: 512,
              description: "`next` of the previous page",
            },
            limit: { type: "integer", minimum: 1, maximum: 500 },
          },
        },
        response: {
          200: {
            type: "object",
            properties: { items: { type: "array", items: groupSchema }, next: { type: ["string", "null"] } },
          },
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const page = await registry.groups(callerOf(request.principal!), request.query);
      return { items: page.items.map(groupJson), next: page.next ?? null };
    },
  );
}
