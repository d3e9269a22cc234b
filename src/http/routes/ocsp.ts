/**
 * OCSP over HTTP (RFC 6960 App. A, RFC 5019 §5–6) at the URL every certificate's AIA names
 * (`${publicUrl}/ocsp`, ca/urls.ts): POST with an application/ocsp-request body, or GET with the
 * request base64 in the path (tolerant decoding: pki/ocsp-get.ts). Every request the responder
 * reads gets an application/ocsp-response with HTTP 200, whatever its OCSP status (malformed,
 * unauthorized, tryLater included; RFC 6960 App. A.1). What is not an OCSP request at all (another
 * content type, a body past the transport limit) is refused as a problem, as everywhere else.
 *
 * A pre-signed answer to a GET carries the RFC 5019 §6.2 caching headers: Last-Modified
 * (thisUpdate), Expires (nextUpdate), ETag, and Cache-Control max-age up to nextUpdate, capped so a
 * shared cache does not keep a good answer an hour past a revocation; If-None-Match gets a 304.
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import type { OcspAnswer, OcspResponder } from "../../ca/index.js";
import { KeyfleetError, quoted, type Clock } from "../../domain/index.js";
import { decodeOcspGetPath } from "../../pki/index.js";

/** Bodies up to this are read and judged by the OCSP reader (whose own limit is far lower: malformedRequest). */
const maxBodyBytes = 64 * 1024;
/** The most a shared HTTP cache may keep a response (RFC 5019 §6.2 allows up to nextUpdate). */
const maxAgeCapSeconds = 3600;
const ocspRequestType = "application/ocsp-request";
/**
 * Anonymous, public and answered by the thousand per second: a request and its completion are not
 * logged (the metrics count them); the responder logs what goes wrong (ocsp-responder.ts).
 */
const quiet = "warn";

export function ocspRoutes(http: FastifyInstance, responder: OcspResponder, clock: Clock): void {
  void http.register(async (ocsp) => {
    ocsp.addContentTypeParser(
      ocspRequestType,
      { parseAs: "buffer", bodyLimit: maxBodyBytes },
      (_r, body, done) => done(null, body),
    );
    ocsp.addHook("onRequest", async (request) => {
      if (request.method !== "POST") return;
      const type = (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
      if (type !== ocspRequestType) {
        throw new KeyfleetError(
          "unsupported-media-type",
          `send the OCSP request as Content-Type: ${ocspRequestType} (its DER), not ${type ? quoted(type) : "without a content type"}`,
        );
      }
    });

    ocsp.post("/ocsp", { schema: { hide: true }, logLevel: quiet }, async (request, reply) => {
      const body = request.body as Buffer;
      return send(
        reply,
        await responder.answer(new Uint8Array(body.buffer, body.byteOffset, body.byteLength)),
        clock,
        false,
      );
    });

    ocsp.get("/ocsp/*", { schema: { hide: true }, logLevel: quiet }, async (request, reply) => {
      // The raw path, not Fastify's decoded parameter: decoding is the GET form's own (ocsp-get.ts).
      const path = request.raw.url ?? "";
      const encoded = path.slice(path.indexOf("/ocsp/") + "/ocsp/".length).split("?")[0]!;
      let der: Uint8Array;
      try {
        der = decodeOcspGetPath(encoded);
      } catch {
        der = new Uint8Array(0); // not base64: the reader answers malformedRequest
      }
      const answer = await responder.answer(der);
      if (answer.cached && request.headers["if-none-match"] === answer.cached.etag) {
        cacheHeaders(reply, answer.cached, clock);
        return reply.code(304).send();
      }
      return send(reply, answer, clock, true);
    });
  });
}

function send(reply: FastifyReply, answer: OcspAnswer, clock: Clock, get: boolean): FastifyReply {
  if (get && answer.cached) cacheHeaders(reply, answer.cached, clock);
  else reply.header("cache-control", "no-store"); // signed for one request (a nonce) or an error
  return reply
    .type("application/ocsp-response")
    .send(Buffer.from(answer.der.buffer, answer.der.byteOffset, answer.der.byteLength));
}

function cacheHeaders(reply: FastifyReply, cached: NonNullable<OcspAnswer["cached"]>, clock: Clock): void {
  const left = Math.floor((cached.nextUpdate.getTime() - clock.now().getTime()) / 1000);
  const maxAge = Math.max(0, Math.min(left, maxAgeCapSeconds));
  reply
    .header("cache-control", `max-age=${maxAge}, public, no-transform, must-revalidate`)
    .header("last-modified", cached.thisUpdate.toUTCString())
    .header("expires", cached.nextUpdate.toUTCString())
    .header("etag", cached.etag);
}

/**
 * For /readyz while a check fails: what the responder still serves (pre-signed responses, each
 * until its nextUpdate), or undefined when it has nothing to serve.
 */
export function ocspDegradation(responder: OcspResponder): () => string | undefined {
  return () => {
    const { entries, validUntil } = responder.cacheState();
    if (entries === 0 || !validUntil) return undefined;
    return `answering from ${entries} pre-signed responses, the first of which expires at ${validUntil.toISOString()}`;
  };
}
