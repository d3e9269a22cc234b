/**
 * The Fastify applications: the full surface (admin API, device-facing and public routes) for
 * HTTPS, and the public subset (CA certificates, problem pages, later CRLs and OCSP) for plain HTTP.
 */
import swagger from "@fastify/swagger";
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from "fastify";
import type { App } from "../app.js";
import { KeyfleetError } from "../domain/index.js";
import { authorizer } from "./auth.js";
import { createMetrics, metricsRoutes } from "./metrics.js";
import { problemOf } from "./problem.js";
import { installValidation } from "./validation.js";
import { caFileRoutes } from "./routes/ca-files.js";
import { certificateRoutes } from "./routes/certificates.js";
import { healthRoutes } from "./routes/health.js";
import { problemRoutes } from "./routes/problems.js";
import { tokenRoutes } from "./routes/tokens.js";

export type Surface = "full" | "public";

export async function buildHttpApp(
  app: App,
  surface: Surface,
  options: FastifyServerOptions = {},
): Promise<FastifyInstance> {
  const http = Fastify({
    loggerInstance: app.logger.child({ surface }),
    bodyLimit: 1024 * 1024,
    // Errors Fastify meets before any route (a malformed URL, an over-long path parameter) are
    // problem details too.
    frameworkErrors: (error, request, reply) => {
      void sendProblem(http, request, reply, error);
    },
    ...options,
  });
  installValidation(http);
  http.removeContentTypeParser("text/plain"); // the API speaks JSON; anything else is a 415 that says so
  installProblemHandlers(http);
  const metrics = createMetrics();
  metricsRoutes(http, metrics);
  if (surface === "full") await registerOpenApi(http);
  healthRoutes(http, app);
  caFileRoutes(http, app);
  problemRoutes(http);
  if (surface === "full") {
    const authorize = authorizer(app.tokens, app.audit);
    certificateRoutes(http, app, authorize, metrics.issuance);
    tokenRoutes(http, app.tokens, authorize);
  }
  return http;
}

function sendProblem(http: FastifyInstance, request: FastifyRequest, reply: FastifyReply, error: unknown) {
  const problem = problemOf(error, request.url.split("?")[0]);
  http.countProblem(problem.code);
  if (problem.status >= 500) request.log.error({ err: error }, "request failed");
  else request.log.info({ code: problem.code, detail: problem.detail }, "request refused");
  // RFC 6750 §3: a 401 names the scheme it wants.
  if (problem.status === 401) reply.header("www-authenticate", 'Bearer realm="keyfleet"');
  return reply.code(problem.status).type("application/problem+json").send(problem);
}

function installProblemHandlers(http: FastifyInstance): void {
  http.setErrorHandler(async (error, request, reply) => sendProblem(http, request, reply, error));
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
