/**
 * The plain-HTTP listener's fast path for OCSP requests that a pre-signed response answers (one
 * CertID, no nonce, cached and valid): they are answered from node:http's `request` event, before
 * Fastify's routing, hooks, body parsing and reply machinery, with one `writeHead` and one `end`
 * of the cached bytes. The profile of a cached answer through Fastify was mostly that machinery
 * (and the write itself); the responder's lookup is a small part of it.
 *
 * It answers exactly what the routes would (routes/ocsp.ts and ocsp-wire.ts hold the rules both
 * follow): `responder.preSigned` returns what `responder.answer` would for the request, and the
 * headers come from the same functions. Everything else goes to Fastify unchanged: another method
 * or path, a POST that is not application/ocsp-request or has no Content-Length or one past the
 * limit, an Expect, an HTTP/1.1 request without Host, a server shutting down, and every miss,
 * nonce, multi-CertID or malformed request. A POST body read here and then handed to Fastify is
 * given back to it whole at preParsing. Each answer is counted in the request histogram as the
 * route would count it (/metrics).
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { OcspResponder } from "../ca/index.js";
import type { Clock } from "../domain/index.js";
import type { Metrics } from "./metrics.js";
import {
  answerHeaders,
  cacheHeaders,
  maxOcspBodyBytes,
  mediaTypeOf,
  notModified,
  ocspGetRequest,
  ocspRequestType,
} from "./ocsp-wire.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Puts the fast path in front of Fastify on its node:http server: Fastify's own `request` listener
 * is kept, and called for whatever the fast path does not answer. (Fastify's `serverFactory`
 * would do it too, but Fastify then binds only the first address of `localhost`, not both.)
 * Bodies read here are handed back to Fastify; once the server closes, everything is Fastify's.
 */
export function installOcspFastPath(
  http: FastifyInstance,
  responder: OcspResponder,
  clock: Clock,
  metrics: Metrics,
): void {
  const bodies = new WeakMap<IncomingMessage, Buffer>();
  const count = {
    post: metrics.requests.labels("POST", "/ocsp", "200", "public"),
    get: metrics.requests.labels("GET", "/ocsp/*", "200", "public"),
    notModified: metrics.requests.labels("GET", "/ocsp/*", "304", "public"),
  };
  let closing = false;

  function answerGet(req: IncomingMessage, res: ServerResponse, fastify: Handler, start: number): void {
    const cached = responder.preSigned(ocspGetRequest(req.url!));
    if (!cached) return fastify(req, res);
    const answer = { der: cached.response, cached };
    if (notModified(answer, req.headers["if-none-match"])) {
      res.writeHead(304, cacheHeaders(cached, clock)).end();
      count.notModified.observe((performance.now() - start) / 1000);
      return;
    }
    send(res, answerHeaders(answer, clock, true), cached.response);
    count.get.observe((performance.now() - start) / 1000);
  }

  function answerPost(req: IncomingMessage, res: ServerResponse, fastify: Handler, start: number): void {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.once("end", () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const cached = responder.preSigned(body);
      if (!cached) {
        bodies.set(req, Buffer.from(body)); // a copy: the chunk may be a view of the socket's buffer
        return fastify(req, res);
      }
      send(res, answerHeaders({ der: cached.response, cached }, clock, false), cached.response);
      count.post.observe((performance.now() - start) / 1000);
    });
    // A client that goes away mid-body: node:http closes the socket; there is no one to answer.
  }

  function handle(req: IncomingMessage, res: ServerResponse, fastify: Handler): void {
    const start = performance.now();
    const { headers } = req;
    if (closing || headers.expect !== undefined || (req.httpVersion === "1.1" && !headers.host)) {
      return fastify(req, res);
    }
    if (req.method === "GET" && req.url!.startsWith("/ocsp/")) return answerGet(req, res, fastify, start);
    if (req.method === "POST" && req.url === "/ocsp" && takesBody(req)) {
      return answerPost(req, res, fastify, start);
    }
    fastify(req, res);
  }

  const server: Server = http.server;
  const listeners = server.listeners("request");
  if (listeners.length !== 1) throw new Error("the OCSP fast path expects Fastify's one request listener");
  const fastify = listeners[0] as Handler;
  server.removeListener("request", fastify);
  server.on("request", (req: IncomingMessage, res: ServerResponse) => handle(req, res, fastify));
  http.addHook("preParsing", async (request) => {
    const body = bodies.get(request.raw);
    if (!body) return undefined;
    bodies.delete(request.raw);
    return Readable.from([body], { objectMode: false });
  });
  http.addHook("preClose", async () => {
    closing = true; // Fastify answers what arrives now (transport-refusals.ts)
  });
}

/** A POST the fast path may read: an OCSP request with a Content-Length within the route's limit. */
function takesBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return (
    mediaTypeOf(req.headers["content-type"]) === ocspRequestType &&
    req.headers["transfer-encoding"] === undefined &&
    length !== undefined &&
    Number(length) <= maxOcspBodyBytes
  );
}

function send(res: ServerResponse, headers: Record<string, string>, der: Uint8Array): void {
  res.writeHead(200, { ...headers, "content-length": String(der.byteLength) });
  res.end(der);
}
