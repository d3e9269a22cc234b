/**
 * Prometheus metrics: one registry per running server (both listeners count into it, labelled by
 * surface), so two servers in one process (tests) never collide.
 *
 * /metrics is on the HTTPS listener only, behind a Bearer token with `metrics.read` (roles admin,
 * operator, auditor, and `metrics`, which may read nothing else) and no scope. Why a token and not
 * a separate listener: the numbers (Node version, memory, counts by route and problem code) are
 * for operators, not the public; Prometheus sends a bearer token over TLS natively
 * (`authorization.credentials_file`, `tls_config.ca_file`), so a scraper on another machine needs
 * no listener opened without authentication; and the default is closed: nothing answers /metrics
 * until an operator makes a token for it (`keyfleet token create --role metrics`).
 */
import type { FastifyInstance } from "fastify";
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { checkMayReadMetrics } from "../policy/index.js";
import type { Authorize } from "./auth.js";
import { issuanceMetrics, type IssuanceMetrics } from "./issuance-metrics.js";
import type { Surface } from "./server.js";

export interface Metrics {
  readonly registry: Registry;
  readonly issuance: IssuanceMetrics;
  readonly requests: Histogram<"method" | "route" | "status" | "surface">;
  readonly problems: Counter<"code" | "surface">;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  // prom-client's default names already start with process_ or nodejs_ (process_cpu_seconds_total,
  // nodejs_heap_size_total_bytes): the prefix is the project's name alone.
  collectDefaultMetrics({ register: registry, prefix: "keyfleet_" });
  return {
    registry,
    issuance: issuanceMetrics(registry),
    requests: new Histogram({
      name: "keyfleet_http_request_duration_seconds",
      help: "HTTP requests by route, status and surface (full: HTTPS; public: plain HTTP)",
      labelNames: ["method", "route", "status", "surface"],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
    problems: new Counter({
      name: "keyfleet_http_problems_total",
      help: "Requests answered with problem details, by code and surface",
      labelNames: ["code", "surface"],
      registers: [registry],
    }),
  };
}

/** Counts every request and every problem the server answers on this surface. */
export function instrument(http: FastifyInstance, metrics: Metrics, surface: Surface): void {
  http.addHook("onResponse", async (request, reply) => {
    metrics.requests
      .labels(request.method, request.routeOptions.url ?? "unmatched", String(reply.statusCode), surface)
      .observe(reply.elapsedTime / 1000);
  });
  http.decorate("countProblem", (code: string) => metrics.problems.labels(code, surface).inc());
}

export function metricsRoute(http: FastifyInstance, { registry }: Metrics, authorize: Authorize): void {
  http.get(
    "/metrics",
    {
      schema: { hide: true },
      onRequest: authorize("metrics.read"),
      preHandler: async (request) => checkMayReadMetrics(request.principal!),
    },
    async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  );
}

declare module "fastify" {
  interface FastifyInstance {
    countProblem(code: string): void;
  }
}
