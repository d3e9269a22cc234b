/**
 * The audit log on the admin API (auditor or admin, unscoped): the latest signed checkpoint,
 * entries by range, inclusion proofs by index or by certificate serial, consistency proofs between
 * two sizes. Hashes are base64; entries are their canonical JSON, the exact bytes each leaf hashes.
 */
import type { FastifyInstance } from "fastify";
import type { AuditCheckpoints, AuditLog } from "../../audit/index.js";
import { KeyfleetError } from "../../domain/index.js";
import { serialFromHex, serialToHex } from "../../pki/index.js";
import { checkMayReadAuditLog } from "../../policy/index.js";
import type { Authorize } from "../auth.js";
import { problemResponses } from "../schemas.js";

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
const index = { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;

export function auditRoutes(
  http: FastifyInstance,
  services: { audit: AuditLog; checkpoints: AuditCheckpoints },
  authorize: Authorize,
): void {
  const { audit, checkpoints } = services;
  const guard = {
    onRequest: authorize("audit.read"),
    preHandler: async (request: { principal?: Parameters<typeof checkMayReadAuditLog>[0] }) =>
      checkMayReadAuditLog(request.principal!),
  };

  http.get(
    "/api/v1/audit/checkpoint",
    {
      ...guard,
      schema: {
        summary:
          "The latest signed checkpoint (a C2SP signed note); the server signs one each minute the log grows",
        tags: ["audit"],
        response: {
          200: {
            type: "object",
            properties: { size: { type: "integer" }, root: { type: "string" }, note: { type: "string" } },
          },
          ...problemResponses,
        },
      },
    },
    async () => {
      const c = await checkpoints.latest();
      if (!c)
        throw new KeyfleetError(
          "not-found",
          "no checkpoint is signed yet: the server signs one within a minute",
        );
      return { size: c.size, root: b64(c.root), note: c.note };
    },
  );

  http.get<{ Querystring: { from?: number; limit?: number } }>(
    "/api/v1/audit/entries",
    {
      ...guard,
      schema: {
        summary: "Entries from `from` (0 first), in order; `next` is the index to ask for next",
        tags: ["audit"],
        querystring: {
          type: "object",
          properties: { from: index, limit: { type: "integer", minimum: 1, maximum: 1000 } },
          additionalProperties: false,
        },
        response: { ...problemResponses },
      },
    },
    async (request) => {
      const from = request.query.from ?? 0;
      const entries = await audit.entries(from, request.query.limit ?? 100);
      return {
        items: entries.map((e) => ({ index: e.index, entry: e.text })),
        next: entries.length === 0 ? null : entries.at(-1)!.index + 1,
      };
    },
  );

  http.get<{ Querystring: { index?: number; serial?: string; size?: number } }>(
    "/api/v1/audit/proofs/inclusion",
    {
      ...guard,
      schema: {
        summary:
          "RFC 9162 inclusion proof of an entry (by index, or the issuance of a certificate by serial)",
        tags: ["audit"],
        querystring: {
          type: "object",
          properties: { index, serial: { type: "string", maxLength: 64 }, size: index },
          additionalProperties: false,
        },
        response: { ...problemResponses },
      },
    },
    async (request) => {
      const { serial, size } = request.query;
      let at = request.query.index;
      if ((at === undefined) === (serial === undefined)) {
        throw new KeyfleetError("malformed-request", "ask by index or by serial, one of them");
      }
      if (serial !== undefined) at = (await audit.issuanceOf(serialToHex(serialFromHex(serial)))).index;
      // Against the latest signed checkpoint unless asked otherwise, so the proof can be checked.
      const treeSize = size ?? (await checkpoints.latest())?.size ?? (await audit.size());
      const proof = await audit.inclusionProof(at!, treeSize);
      return {
        index: proof.index,
        size: proof.size,
        leafHash: b64(proof.leafHash),
        proof: proof.proof.map(b64),
      };
    },
  );

  http.get<{ Querystring: { from: number; to: number } }>(
    "/api/v1/audit/proofs/consistency",
    {
      ...guard,
      schema: {
        summary: "RFC 9162 consistency proof that the tree of `to` entries extends the tree of `from`",
        tags: ["audit"],
        querystring: {
          type: "object",
          required: ["from", "to"],
          properties: { from: index, to: index },
          additionalProperties: false,
        },
        response: { ...problemResponses },
      },
    },
    async (request) => {
      const { from, to } = request.query;
      return { from, to, proof: (await audit.consistencyProof(from, to)).map(b64) };
    },
  );
}
