/**
 * Liveness and readiness: ready means the database answers and the key store opens the issuing CA
 * key. When a check fails but the OCSP responder still answers from its pre-signed cache, the
 * answer is `degraded` (`checks.ocsp` says how much it serves and until when): 200 on the plain-HTTP
 * listener, which serves revocation status and should stay in its load balancer, 503 on HTTPS,
 * whose API needs the database. Nothing to serve either: 503 `unavailable`.
 */
import type { FastifyInstance } from "fastify";
import { problemOf } from "../problem.js";

/** What readiness asks, by name: each resolves when its part is usable. */
export type ReadinessChecks = Readonly<Record<string, () => Promise<void>>>;

export interface Degradation {
  /** What is still served while a check fails; undefined when nothing is. */
  readonly describe: () => string | undefined;
  /** The status code of a degraded answer. */
  readonly statusCode: 200 | 503;
}

export function healthRoutes(
  http: FastifyInstance,
  readiness: ReadinessChecks,
  degradation?: Degradation,
): void {
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
    if (!failure) return reply.code(200).send({ status: "ready", checks });
    const serving = degradation?.describe();
    if (serving === undefined) return reply.code(503).send({ status: "unavailable", checks });
    return reply
      .code(degradation!.statusCode)
      .send({ status: "degraded", checks: { ...checks, ocsp: serving } });
  });
}
