/**
 * The admin API for bulk jobs: start one (or a dry run) for every device a filter matches — a
 * lifecycle command, or `rotate` (each active device marked due for rotation, spread at `rate`) —
 * read their progress. A started job is worked by the server's background task, on whichever node
 * claims it; `GET /api/v1/jobs/{id}` follows it.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { callerOf } from "../../policy/index.js";
import {
  bulkJobJson,
  deviceAttributeRules,
  deviceJson,
  jobCommands,
  maxJobCap,
  maxRateDevices,
  rateUnits,
  type BulkJobs,
  type JobCommand,
  type JobFilter,
  type JobRate,
} from "../../registry/index.js";
import type { Authorize } from "../auth.js";
import { problemResponses } from "../schemas.js";
import { deviceFilterProperties, deviceSchema } from "./device-schemas.js";

const rateSchema = {
  type: "object",
  additionalProperties: false,
  required: ["devices", "per"],
  description: "a rotate job's pace: its devices' due times spread at so many per second or minute",
  properties: {
    devices: { type: "integer", minimum: 1, maximum: maxRateDevices },
    per: { type: "string", enum: rateUnits },
  },
} as const;

const jobSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    command: { type: "string", enum: jobCommands },
    filter: { type: "object", additionalProperties: true },
    reason: { type: ["string", "null"] },
    rate: { anyOf: [rateSchema, { type: "null" }] },
    state: { type: "string", enum: ["running", "done"] },
    total: { type: "integer" },
    applied: { type: "integer" },
    refused: { type: "integer" },
    createdBy: { type: "string" },
    createdAt: { type: "string", format: "date-time" },
    updatedAt: { type: "string", format: "date-time" },
    refusedItems: {
      type: "array",
      items: {
        type: "object",
        properties: {
          deviceId: { type: "string" },
          code: { type: ["string", "null"] },
          message: { type: ["string", "null"] },
        },
      },
    },
  },
} as const;

interface StartBody {
  command: JobCommand;
  filter?: Omit<JobFilter, "label"> & { label?: string };
  cap?: number;
  dryRun?: boolean;
  reason?: string;
  rate?: JobRate;
}

const caller = (request: FastifyRequest) => callerOf(request.principal!);

export function jobRoutes(http: FastifyInstance, jobs: BulkJobs, authorize: Authorize): void {
  http.post<{ Body: StartBody }>(
    "/api/v1/jobs",
    {
      onRequest: authorize("device.lifecycle"),
      schema: {
        summary:
          "Start a bulk job (or a dry run): a lifecycle command, or a rotation request (rotate), for every device the filter matches",
        tags: ["jobs"],
        body: {
          type: "object",
          additionalProperties: false,
          required: ["command"],
          properties: {
            command: { type: "string", enum: jobCommands },
            filter: { type: "object", additionalProperties: false, properties: deviceFilterProperties },
            cap: { type: "integer", minimum: 1, maximum: maxJobCap },
            dryRun: { type: "boolean" },
            reason: { type: "string", minLength: 1, maxLength: 500 },
            rate: rateSchema,
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              dryRun: { type: "boolean" },
              count: { type: "integer" },
              sample: { type: "array", items: deviceSchema },
            },
          },
          202: jobSchema,
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const { label, ...filter } = request.body.filter ?? {};
      const made = await jobs.start(
        request.body.command,
        { ...filter, label: label === undefined ? undefined : deviceAttributeRules.parseLabel(label) },
        caller(request),
        request.body,
      );
      if ("dryRun" in made) return { dryRun: true, count: made.count, sample: made.sample.map(deviceJson) };
      return reply.code(202).send(bulkJobJson(made));
    },
  );

  http.get<{ Querystring: { after?: string; limit?: number } }>(
    "/api/v1/jobs",
    {
      onRequest: authorize("device.read"),
      schema: {
        summary: "Bulk jobs, newest first",
        tags: ["jobs"],
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            after: { type: "string", pattern: "^[0-9]{1,18}$", description: "`next` of the previous page" },
            limit: { type: "integer", minimum: 1, maximum: 500 },
          },
        },
        response: {
          200: {
            type: "object",
            properties: { items: { type: "array", items: jobSchema }, next: { type: ["string", "null"] } },
          },
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const page = await jobs.list(request.query, caller(request));
      return { items: page.items.map(bulkJobJson), next: page.next ?? null };
    },
  );

  http.get<{ Params: { id: string } }>(
    "/api/v1/jobs/:id",
    {
      onRequest: authorize("device.read"),
      schema: {
        summary: "One bulk job: its progress and the devices that refused its command",
        tags: ["jobs"],
        params: {
          type: "object",
          required: ["id"],
          properties: { id: { type: "string", pattern: "^[0-9a-f-]{36}$" } },
        },
        response: { 200: jobSchema, ...problemResponses },
      },
    },
    async (request) => {
      const job = await jobs.get(request.params.id, caller(request));
      return { ...bulkJobJson(job), refusedItems: job.refusedItems };
    },
  );
}
