/**
 * The Fastify applications: the full surface (admin API, device-facing and public routes) for
 * HTTPS, and the public subset (CA certificates, later CRLs and OCSP) for plain HTTP.
 */
import swagger from "@fastify/swagger";
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import type { App } from "../app.js";
import { KeyfleetError } from "../domain/index.js";
import { authorizer } from "./auth.js";
import { metricsRoutes } from "./metrics.js";
import { problemOf } from "./problem.js";
import { caFileRoutes } from "./routes/ca-files.js";
import { certificateRoutes } from "./routes/certificates.js";
import { healthRoutes } from "./routes/health.js";

export type Surface = "full" | "public";

export async function buildHttpApp(
  app: App,
  surface: Surface,
  options: FastifyServerOptions = {},
): Promise<FastifyInstance> {
  const http = Fastify({ loggerInstance: app.logger.child({ surface }), bodyLimit: 1024 * 1024, ...options });
  installProblemHandlers(http);
  metricsRoutes(http);
  if (surface === "full") await registerOpenApi(http);
  healthRoutes(http, app);
  caFileRoutes(http, app);
  if (surface === "full") certificateRoutes(http, app, authorizer(app.tokens));
  return http;
}

function installProblemHandlers(http: FastifyInstance): void {
  http.setErrorHandler(async (error, request, reply) => {
    const problem = problemOf(error, request.url);
    http.countProblem(problem.code);
    if (problem.status >= 500) request.log.error({ err: error }, "request failed");
    else request.log.info({ code: problem.code, detail: problem.detail }, "request refused");
    return reply.code(problem.status).type("application/problem+json").send(problem);
  });
  http.setNotFoundHandler(async (request) => {
    throw new KeyfleetError("not-found", `no route ${request.method} ${request.url.split("?")[0]}`);
  });
}

async function registerOpenApi(http: FastifyInstance): Promise<void> {
  await http.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Keyfleet admin API",
        version: "1",
        description: "Device identity authority. Errors are RFC 9457 problem details.",
      },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    },
  });
  http.get("/openapi.json", { schema: { hide: true } }, async () => http.swagger());
}
