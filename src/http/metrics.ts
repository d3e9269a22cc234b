/** Prometheus metrics: one registry per server, so two servers in one process (tests) never collide. */
import type { FastifyInstance } from "fastify";
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { issuanceMetrics, type IssuanceMetrics } from "./issuance-metrics.js";

export interface Metrics {
  readonly registry: Registry;
  readonly issuance: IssuanceMetrics;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  // prom-client's default names already start with process_ or nodejs_ (process_cpu_seconds_total,
  // nodejs_heap_size_total_bytes): the prefix is the project's name alone.
  collectDefaultMetrics({ register: registry, prefix: "keyfleet_" });
  return { registry, issuance: issuanceMetrics(registry) };
}

export function metricsRoutes(http: FastifyInstance, { registry }: Metrics): void {
  const requests = new Histogram({
    name: "keyfleet_http_request_duration_seconds",
    help: "HTTP requests by route and status",
    labelNames: ["method", "route", "status"],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });
  const refusals = new Counter({
    name: "keyfleet_http_problems_total",
    help: "Requests answered with problem details, by code",
    labelNames: ["code"],
    registers: [registry],
  });
  http.addHook("onResponse", async (request, reply) => {
    requests
      .labels(request.method, request.routeOptions.url ?? "unmatched", String(reply.statusCode))
      .observe(reply.elapsedTime / 1000);
  });
  http.decorate("countProblem", (code: string) => refusals.labels(code).inc());
  http.get("/metrics", { schema: { hide: true } }, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
}

declare module "fastify" {
  interface FastifyInstance {
    countProblem(code: string): void;
  }
}
