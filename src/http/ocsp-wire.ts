/**
 * OCSP over HTTP (RFC 6960 App. A, RFC 5019 §5–6): the rules that both the Fastify routes
 * (routes/ocsp.ts) and the fast path for cached answers (ocsp-fast-path.ts) follow, so the two
 * answer a request alike — its media type, the GET form's path, the response headers, and when a
 * GET is answered 304.
 */
import type { OcspAnswer } from "../ca/index.js";
import type { Clock } from "../domain/index.js";
import { decodeOcspGetPath } from "../pki/index.js";

export const ocspRequestType = "application/ocsp-request";
export const ocspResponseType = "application/ocsp-response";
/** Bodies up to this are read and judged by the OCSP reader (whose own limit is far lower: malformedRequest). */
export const maxOcspBodyBytes = 64 * 1024;
/** The most a shared HTTP cache may keep a response (RFC 5019 §6.2 allows up to nextUpdate). */
const maxAgeCapSeconds = 3600;
const getPrefix = "/ocsp/";

type Cached = NonNullable<OcspAnswer["cached"]>;

/** The media type of a Content-Type header, without parameters, lower case ("" when absent). */
export function mediaTypeOf(header: string | undefined): string {
  return (header ?? "").split(";")[0]!.trim().toLowerCase();
}

/**
 * The DER request of a GET: the raw path after `/ocsp/` (not a framework's decoded parameter:
 * decoding is the GET form's own, pki/ocsp-get.ts), without the query; empty when it is not
 * base64, which the reader answers malformedRequest.
 */
export function ocspGetRequest(url: string): Uint8Array {
  const encoded = url.slice(url.indexOf(getPrefix) + getPrefix.length).split("?")[0]!;
  try {
    return decodeOcspGetPath(encoded);
  } catch {
    return new Uint8Array(0);
  }
}

/**
 * RFC 5019 §6.2 for a pre-signed answer to a GET: Last-Modified (thisUpdate), Expires
 * (nextUpdate), ETag, and Cache-Control max-age up to nextUpdate, capped so a shared cache does not
 * keep a good answer an hour past a revocation.
 */
export function cacheHeaders(cached: Cached, clock: Clock): Record<string, string> {
  const left = Math.floor((cached.nextUpdate.getTime() - clock.now().getTime()) / 1000);
  const maxAge = Math.max(0, Math.min(left, maxAgeCapSeconds));
  return {
    "cache-control": `max-age=${maxAge}, public, no-transform, must-revalidate`,
    "last-modified": cached.thisUpdate.toUTCString(),
    expires: cached.nextUpdate.toUTCString(),
    etag: cached.etag,
  };
}

/**
 * The headers of a 200 answer: caching headers for a pre-signed answer to a GET; `no-store` for
 * one signed for one request (a nonce), an error, or any POST (only GET answers are meant for HTTP
 * caches, RFC 5019 §5).
 */
export function answerHeaders(answer: OcspAnswer, clock: Clock, get: boolean): Record<string, string> {
  const caching: Record<string, string> =
    get && answer.cached ? cacheHeaders(answer.cached, clock) : { "cache-control": "no-store" };
  return { ...caching, "content-type": ocspResponseType };
}

/** A GET whose If-None-Match names the pre-signed answer's ETag is answered 304. */
export function notModified(answer: OcspAnswer, ifNoneMatch: string | undefined): boolean {
  return answer.cached !== undefined && ifNoneMatch === answer.cached.etag;
}
