/**
 * OCSP over HTTP (RFC 6960 App. A, RFC 5019 §5–6) at the URL every certificate's AIA names
 * (`${publicUrl}/ocsp`, ca/urls.ts): POST with an application/ocsp-request body, or GET with the
 * request base64 in the path (tolerant decoding: pki/ocsp-get.ts). Every request the responder
 * reads gets an application/ocsp-response with HTTP 200, whatever its OCSP status (malformed,
 * unauthorized, tryLater included; RFC 6960 App. A.1). What is not an OCSP request at all (another
 * content type, a body past the transport limit) is refused as a problem, as everywhere else.
 * A pre-signed answer to a GET carries the RFC 5019 §6.2 caching headers, and If-None-Match gets a
 * 304 (ocsp-wire.ts). Repeated requests with a cached answer are mostly answered before they get
 * here, by the fast path (ocsp-fast-path.ts), with the same bytes and headers.
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import type { OcspAnswer, OcspResponder } from "../../ca/index.js";
import { KeyfleetError, quoted, type Clock } from "../../domain/index.js";
import {
  answerHeaders,
  cacheHeaders,
  maxOcspBodyBytes,
  mediaTypeOf,
  notModified,
  ocspGetRequest,
  ocspRequestType,
} from "../ocsp-wire.js";

/**
 * Anonymous, public and answered by the thousand per second: a request and its completion are not
 * logged (the metrics count them); the responder logs what goes wrong (ocsp-responder.ts).
 */
const quiet = "warn";

export function ocspRoutes(http: FastifyInstance, responder: OcspResponder, clock: Clock): void {
  void http.register(async (ocsp) => {
    ocsp.addContentTypeParser(
      ocspRequestType,
      { parseAs: "buffer", bodyLimit: maxOcspBodyBytes },
      (_r, body, done) => done(null, body),
    );
    ocsp.addHook("onRequest", async (request) => {
      if (request.method !== "POST") return;
      const type = mediaTypeOf(request.headers["content-type"]);
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
      const answer = await responder.answer(ocspGetRequest(request.raw.url ?? ""));
      if (notModified(answer, request.headers["if-none-match"])) {
        return reply.code(304).headers(cacheHeaders(answer.cached!, clock)).send();
      }
      return send(reply, answer, clock, true);
    });
  });
}

function send(reply: FastifyReply, answer: OcspAnswer, clock: Clock, get: boolean): FastifyReply {
  return reply
    .headers(answerHeaders(answer, clock, get))
    .send(Buffer.from(answer.der.buffer, answer.der.byteOffset, answer.der.byteLength));
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
