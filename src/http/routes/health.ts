/** Liveness and readiness: ready means the database answers and the key store opens the issuing CA key. */
import type { FastifyInstance } from "fastify";
import type { App } from "../../app.js";
import { problemOf } from "../problem.js";

export function healthRoutes(http: FastifyInstance, app: App): void {
  http.get("/healthz", { schema: { hide: true } }, async () => ({ status: "ok" }));

  http.get("/readyz", { schema: { hide: true } }, async (_request, reply) => {
    const checks: Record<string, string> = {};
    let failure: unknown;
    for (const [name, check] of [
      ["database", () => app.database.ping()],
      ["keyStore", () => app.authority.ready()],
    ] as const) {
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
