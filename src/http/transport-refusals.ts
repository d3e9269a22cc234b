/**
 * Answers the server gives before any route: Node's HTTP parser refusing the bytes (headers too
 * large, a malformed request line, a chunk extension too long, a request too slow), an HTTP/1.1
 * request without Host, an Expect the server cannot meet, and a request that arrives while the
 * server closes. Node and Fastify answer these themselves, as an empty body or Fastify's own JSON;
 * here each is an RFC 9457 problem like every other error, with its own status.
 */
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyInstance, FastifyServerOptions } from "fastify";
import { KeyfleetError } from "../domain/index.js";
import { HttpRefusal, problemOf } from "./problem.js";

/**
 * Node's parser errors by code (node:http's own defaults, in words): status and detail. Anything
 * else the parser refuses is a 400.
 */
const parserRefusals: Readonly<Record<string, readonly [number, string]>> = {
  HPE_HEADER_OVERFLOW: [431, "the request line and header fields are larger than the server accepts"],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, "a chunk extension is larger than the server accepts"],
  ERR_HTTP_REQUEST_TIMEOUT: [408, "the request did not arrive in time"],
};

/** RFC 9110 §10.1.1: the one expectation defined; Node answers it (100 Continue) itself. */
const continueExpectation = /(?:^|\W)100-continue(?:$|\W)/i;

/** Options for node:http(s).createServer: Host is checked here, so it is answered as a problem. */
export const transportServerOptions = { requireHostHeader: false } as const;

/** Fastify options: this module answers the client errors and the requests that arrive while closing. */
export function transportFastifyOptions(http: () => FastifyInstance): Partial<FastifyServerOptions> {
  return {
    return503OnClosing: false,
    clientErrorHandler: (error: Error, socket: Socket) => answerClientError(http(), error, socket),
  };
}

export function installTransportRefusals(http: FastifyInstance): void {
  let closing = false;
  http.addHook("preClose", async () => {
    closing = true;
  });
  // Node answers an unmet Expect with an empty 417 unless someone listens: let Fastify answer it.
  http.server.on("checkExpectation", (request, response) => http.server.emit("request", request, response));
  http.addHook("onRequest", async (request, reply) => {
    if (closing) {
      reply.header("connection", "close");
      throw new KeyfleetError("unavailable", "the server is shutting down; retry (on another server)");
    }
    // RFC 9112 §3.2: a server must answer 400 to an HTTP/1.1 request without a Host.
    if (request.raw.httpVersion === "1.1" && request.headers.host === undefined) {
      reply.header("connection", "close"); // as node:http does: the client is not speaking HTTP/1.1 as it says
      throw new HttpRefusal(400, "an HTTP/1.1 request must carry a Host header field (RFC 9112 §3.2)");
    }
    const expectation = request.headers.expect;
    if (expectation !== undefined && !continueExpectation.test(expectation)) {
      throw new HttpRefusal(417, "the only expectation this server meets is Expect: 100-continue");
    }
  });
}

/**
 * The bytes did not make a request (Node's `clientError`): answer with a problem, if the socket
 * can still take one, and close it (the parser cannot go on). A reset connection gets nothing.
 */
export function answerClientError(http: FastifyInstance, error: Error, socket: Socket): void {
  const code = (error as NodeJS.ErrnoException).code ?? "";
  if (code === "ECONNRESET" || socket.destroyed) return;
  const [status, detail] = parserRefusals[code] ?? [400, "the request is not valid HTTP/1.1"];
  const problem = problemOf(new HttpRefusal(status, detail));
  http.countProblem(problem.code);
  http.log.info({ code: problem.code, status, parserError: code }, "request refused");
  if (socket.writable) {
    const body = JSON.stringify(problem);
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        "Content-Type: application/problem+json; charset=utf-8\r\n" +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        "Connection: close\r\n\r\n" +
        body,
    );
  }
  socket.destroy(error);
}
