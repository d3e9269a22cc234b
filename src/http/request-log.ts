/**
 * One log line per request, at its end: method, URL, status and time, and for a refusal its problem
 * code and detail (Fastify's own request logging, off here, writes "incoming request" and "request
 * completed", and the problem handlers wrote a third). Probes — liveness, readiness, metrics
 * scrapes — are not logged; a route with its own log level (OCSP's, answered by the thousand) is
 * logged at that level only, so not at info. A failure (5xx) is logged as an error where it is met.
 */
import { LogController, type FastifyInstance, type FastifyRequest } from "fastify";

const probes: ReadonlySet<string> = new Set(["/healthz", "/readyz", "/metrics"]);
const refusals = new WeakMap<FastifyRequest, { code: string; detail: string }>();

/** Fastify's option that turns its own request lines off. */
export const requestLogController = (): LogController => new LogController({ disableRequestLogging: true });

/** The refusal `request` ends with, for its line. */
export function noteRefusal(request: FastifyRequest, code: string, detail: string): void {
  refusals.set(request, { code, detail });
}

export function installRequestLog(http: FastifyInstance): void {
  http.addHook("onResponse", (request, reply, done) => {
    if (!probes.has(request.routeOptions.url ?? "")) {
      request.log.info(
        {
          method: request.method,
          url: request.url,
          statusCode: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 100) / 100,
          ...refusals.get(request),
        },
        "request",
      );
    }
    done();
  });
}
