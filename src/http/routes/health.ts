/** Liveness and readiness: ready means the database answers and the key store opens the issuing CA key. */
import type { FastifyInstance } from "fastify";
import { problemOf } from "../problem.js";

/** What readiness asks, by name: each resolves when its part is usable. */
export type ReadinessChecks = Readonly<Record<string, () => Promise<void>>>;

export function healthRoutes(http: FastifyInstance, readiness: ReadinessChecks): void {
  http.get("/healthz", { schema: { hide: true } }, async () => ({ status: "ok" }));

  http.get("/readyz", { schema: { hide: true } }, async (_request, reply) => {
    const checks: Record<string, string> = {};
    let failure: unknown;
    for (const [name, check] of Object.entries(readiness)) {
      try {
        await check();
        checks[name] = "ok";
      } catch (e) {
        checks[name] = problemOf(e).detail;
        failure ??= e;
      }
    }
    return reply.code(failure ? 503 : 200).send({ status: failure ? "unavailable" : "ready", checks });
  });
}
