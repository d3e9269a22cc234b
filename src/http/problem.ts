/**
 * RFC 9457 problem details. The one table that maps error codes to HTTP statuses; every error that
 * leaves the server goes through `problemOf`.
 */
import type { ErrorCode } from "../domain/index.js";
import { isKeyfleetError } from "../domain/index.js";

/**
 * RFC 9457 §3.1.1: `type` is a URI reference; a relative one is resolved against the response's
 * base URI (RFC 3986 §5), here the request's URL, and should then carry the full path. The RFC
 * prefers absolute URIs where possible, but no one origin names this server (HTTPS and plain HTTP
 * listen on different ports, behind whatever name a client used), so `/problems/<code>` names the
 * page that the server that answered serves for the code (routes/problems.ts, on both listeners).
 */
export const problemTypeBase = "/problems/";

export const statusOf: Readonly<Record<ErrorCode, number>> = {
  "malformed-request": 400,
  "bad-signature": 400,
  "weak-key": 400,
  "unsupported-algorithm": 400,
  "forbidden-extension": 400,
  "profile-violation": 400,
  "unknown-profile": 400,
  "not-found": 404,
  conflict: 409,
  "invalid-transition": 409,
  "precondition-failed": 412,
  "identity-tombstoned": 409,
  "unknown-manufacturer": 422,
  "untrusted-idevid": 422,
  "invalid-policy": 422,
  "policy-violation": 422,
  "key-store-locked": 503,
  "key-not-found": 500,
  "invalid-configuration": 500,
  "not-initialized": 503,
  unauthorized: 401,
  "invalid-nonce": 400,
  forbidden: 403,
  "store-unavailable": 503,
  unavailable: 503,
  "log-inconsistent": 500,
  "unsupported-media-type": 415,
  "not-offered": 501,
  internal: 500,
};

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance?: string;
  readonly code: ErrorCode;
  /** Extension members (RFC 9457 §3.2), where `extensionsOf` lets an error's detail through. */
  readonly [member: string]: unknown;
}

/**
 * The facts of an error's detail that its problem carries as extension members, by code. Only
 * these: a detail may hold what the caller's scope does not cover.
 */
const extensionsOf: Partial<Record<ErrorCode, readonly string[]>> = {
  "invalid-policy": ["problems"],
  "policy-violation": ["policyVersion", "rule"],
};

/**
 * Fastify's own refusals, in words that name what to fix and never repeat the request back (its
 * messages quote URLs and media types verbatim). Validation messages name the field and the rule,
 * not the value, so they are kept.
 */
const fastifyDetails: Readonly<Record<string, string>> = {
  FST_ERR_BAD_URL: "the URL is not valid (bad percent-encoding)",
  FST_ERR_MAX_PARAM_LENGTH: "a path segment is too long",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "send the request body as application/json",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "the Content-Length does not match the body",
  FST_ERR_CTP_EMPTY_JSON_BODY: "the body is empty; send a JSON object",
  FST_ERR_CTP_BODY_TOO_LARGE: "the body is larger than the server accepts",
  FST_ERR_CTP_INVALID_JSON_BODY: "the body is not valid JSON",
};

/**
 * A refusal by the HTTP layer itself, before any route (headers too large, no Host, an Expect it
 * cannot meet): `malformed-request` with the status HTTP defines for it, as Fastify's own are.
 */
export class HttpRefusal extends Error {
  override readonly name = "HttpRefusal";
  constructor(
    readonly statusCode: number,
    detail: string,
  ) {
    super(detail);
  }
}

/** Fastify's own errors (validation, body parsing, payload size) keep their 4xx status as `malformed-request`. */
export function problemOf(error: unknown, instance?: string): Problem {
  const where = instance && instance.length > 200 ? `${instance.slice(0, 200)}…` : instance;
  if (isKeyfleetError(error)) {
    const members = Object.fromEntries(
      (extensionsOf[error.code] ?? []).flatMap((k) =>
        error.detail?.[k] === undefined ? [] : [[k, error.detail[k]]],
      ),
    );
    return { ...problem(error.code, statusOf[error.code], error.message, where), ...members };
  }
  const fastify = error as { statusCode?: number; code?: string; validation?: unknown; message?: string };
  if (typeof fastify.statusCode === "number" && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    const detail =
      (fastify.code && fastifyDetails[fastify.code]) ??
      (fastify.validation ? fastify.message : undefined) ??
      (fastify.code?.startsWith("FST_ERR_CTP_") ? "the request body could not be read" : fastify.message) ??
      "bad request";
    return problem("malformed-request", fastify.statusCode, detail, where);
  }
  return problem("internal", 500, "internal error; the server log has the details", where);
}

/** The problem type's short summary (RFC 9457 §3.1.3): the same for every occurrence of the code. */
export function titleOf(code: ErrorCode): string {
  return code.replace(/-/g, " ");
}

function problem(code: ErrorCode, status: number, detail: string, instance: string | undefined): Problem {
  return {
    type: problemTypeBase + code,
    title: titleOf(code),
    status,
    detail,
    ...(instance ? { instance } : {}),
    code,
  };
}
