/**
 * RFC 9457 problem details. The one table that maps error codes to HTTP statuses; every error that
 * leaves the server goes through `problemOf`.
 */
import type { ErrorCode } from "../domain/index.js";
import { isKeyfleetError } from "../domain/index.js";

export const problemTypeBase = "https://keyfleet.dev/problems/";

const statusOf: Readonly<Record<ErrorCode, number>> = {
  "malformed-request": 400,
  "bad-signature": 400,
  "unsupported-algorithm": 400,
  "forbidden-extension": 400,
  "profile-violation": 400,
  "unknown-profile": 400,
  "not-found": 404,
  conflict: 409,
  "key-store-locked": 503,
  "key-not-found": 500,
  "invalid-configuration": 500,
  "not-initialized": 503,
  unauthorized: 401,
  forbidden: 403,
  "store-unavailable": 503,
  unavailable: 503,
  internal: 500,
};

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance?: string;
  readonly code: ErrorCode;
}

/** Fastify's own errors (validation, body parsing, payload size) keep their 4xx status as `malformed-request`. */
export function problemOf(error: unknown, instance?: string): Problem {
  if (isKeyfleetError(error)) {
    return problem(error.code, statusOf[error.code], error.message, instance);
  }
  const fastify = error as { statusCode?: number; validation?: unknown; message?: string };
  if (typeof fastify.statusCode === "number" && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    return problem("malformed-request", fastify.statusCode, fastify.message ?? "bad request", instance);
  }
  return problem("internal", 500, "internal error; the server log has the details", instance);
}

function problem(code: ErrorCode, status: number, detail: string, instance: string | undefined): Problem {
  return {
    type: problemTypeBase + code,
    title: code.replace(/-/g, " "),
    status,
    detail,
    ...(instance ? { instance } : {}),
    code,
  };
}
