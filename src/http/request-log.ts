/**
 * One log line per request, at its end: method, URL, status and time (Fastify's own logging, off
 * here, writes two: "incoming request" and "request completed"). Probes — liveness, readiness,
 * metrics scrapes — are not logged; a route with its own log level (OCSP's, answered by the
 * thousand) is logged at that level only, so not at info.
 */
import type { FastifyInstance } from "fastify";

const probes: ReadonlySet<string> = new Set(["/healthz", "/readyz", "/metrics"]);

export function installRequestLog(http: FastifyInstance): void {
  http.addHook("onResponse", (request, reply, done) => {
    if (!probes.has(request.routeOptions.url ?? "")) {
      request.log.info(
        {
          method: request.method,
          url: request.url,
          statusCode: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 100) / 100,
        },
        "request",
      );
    }
    done();
  });
}
