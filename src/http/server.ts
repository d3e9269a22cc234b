/**
 * The Fastify applications: the full surface (admin API, device-facing and public routes, metrics)
 * for HTTPS, and the public subset (CA certificates, problem pages, later CRLs and OCSP) for plain
 * HTTP. Unauthenticated on both, on purpose: /healthz and /readyz (a load balancer asks them; they
 * say up or not and which part is down, no secret), /problems (documentation), the CA certificates
 * (relying parties need them); on HTTPS, /openapi.json (the API's shape, as public as the source).
 * /metrics needs a token (metrics.ts says why).
 */
import swagger from "@fastify/swagger";
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from "fastify";
import type { App } from "../app.js";
import { KeyfleetError, isKeyfleetError, type ErrorCode } from "../domain/index.js";
import { bearerAuthenticator } from "../policy/index.js";
import { authorizer, refusalRecorder } from "./auth.js";
import { createMetrics, instrument, metricsRoute, type Metrics } from "./metrics.js";
import { installOcspFastPath } from "./ocsp-fast-path.js";
import { problemOf } from "./problem.js";
import {
  installTransportRefusals,
  transportFastifyOptions,
  transportServerOptions,
} from "./transport-refusals.js";
import { installValidation } from "./validation.js";
import { artefactRoutes } from "./routes/artefacts.js";
import { certificateRoutes } from "./routes/certificates.js";
import { healthRoutes } from "./routes/health.js";
import { ocspDegradation, ocspRoutes } from "./routes/ocsp.js";
import { problemRoutes } from "./routes/problems.js";
import { auditRoutes } from "./routes/audit.js";
import { tokenRoutes } from "./routes/tokens.js";
import { deviceRoutes } from "./routes/devices.js";
import { groupRoutes } from "./routes/groups.js";
import { eventRoutes } from "./routes/events.js";
import { jobRoutes } from "./routes/jobs.js";
import { policyRoutes } from "./routes/policy.js";
import { manufacturerRoutes } from "./routes/manufacturers.js";
import { estRoutes } from "./routes/est.js";
import { installRequestLog, noteRefusal, requestLogController } from "./request-log.js";
import { enrollRoutes } from "./routes/enroll.js";

export type Surface = "full" | "public";

/**
 * `options` may carry `https` (node:https options: the HTTPS listener); `metrics` is the registry
 * the server counts into (one for both listeners of a running server; a new one by default).
 */
const auditedRefusals: ReadonlySet<string> = new Set<ErrorCode>([
  "forbidden",
  "unknown-manufacturer",
  "untrusted-idevid",
]);

export async function buildHttpApp(
  app: App,
  surface: Surface,
  options: FastifyServerOptions & { https?: object } = {},
  metrics: Metrics = createMetrics(),
): Promise<FastifyInstance> {
  const { https, ...rest } = options;
  const http: FastifyInstance = Fastify({
    loggerInstance: app.logger.child({ surface }),
    logController: requestLogController(), // one line per request instead, none for probes (request-log.ts)
    bodyLimit: 1024 * 1024,
    // A request (headers and body) must arrive within 30 s: a client that trickles its body holds a
    // socket and a parser, so it gets 408 instead of Node's default five minutes.
    requestTimeout: 30_000,
    // Errors Fastify meets before any route (a malformed URL, an over-long path parameter) are
    // problem details too; so are those Node's parser meets before Fastify (transport-refusals.ts).
    frameworkErrors: (error, request, reply) => {
      void sendProblem(http, request, reply, error);
    },
    ...transportFastifyOptions((): FastifyInstance => http),
    ...(https ? { https: { ...https, ...transportServerOptions } } : { http: transportServerOptions }),
    ...rest,
  } as FastifyServerOptions);
  installValidation(http);
  installRequestLog(http);
  http.removeContentTypeParser("text/plain"); // the API speaks JSON; anything else is a 415 that says so
  installProblemHandlers(http);
  installTransportRefusals(http);
  instrument(http, metrics, surface);
  // The public surface answers cached OCSP requests before Fastify does (ocsp-fast-path.ts).
  if (surface === "public" && !https) installOcspFastPath(http, app.ocsp, app.clock, metrics);
  if (surface === "full") await registerOpenApi(http);
  healthRoutes(
    http,
    { database: () => app.database.ping(), keyStore: () => app.authority.ready() },
    { describe: ocspDegradation(app.ocsp), statusCode: surface === "public" ? 200 : 503 },
  );
  artefactRoutes(http, { crls: app.crls }, app.clock);
  if (surface === "public") ocspRoutes(http, app.ocsp, app.clock);
  problemRoutes(http);
  if (surface === "full") {
    const recordRefusal = refusalRecorder(app.audit);
    const authorize = authorizer(bearerAuthenticator(app.tokens, app.oidc), recordRefusal);
    // Refusals after authentication are audited too: a scope or policy that does not cover the
    // request, and a hardware identity nobody vouches for.
    http.addHook("onError", async (request, _reply, error: unknown) => {
      if (request.principal && isKeyfleetError(error) && auditedRefusals.has(error.code)) {
        await recordRefusal(request, error, request.principal);
      }
    });
    metricsRoute(http, metrics, authorize);
    certificateRoutes(http, { authority: app.authority, registry: app.devices }, authorize, metrics.issuance);
    tokenRoutes(http, app.tokens, authorize);
    deviceRoutes(http, app.devices, authorize);
    groupRoutes(http, app.devices, authorize);
    eventRoutes(http, app.events, authorize);
    jobRoutes(http, app.jobs, authorize);
    policyRoutes(http, app.policies, authorize);
    manufacturerRoutes(http, app.manufacturers, authorize);
    auditRoutes(http, { audit: app.audit, checkpoints: app.checkpoints }, authorize);
    const enrolling = { enrollment: app.enrollment, authority: app.authority, audit: app.audit };
    estRoutes(http, enrolling);
    enrollRoutes(http, { ...enrolling, bootstrapTokens: app.bootstrapTokens }, authorize);
  }
  return http;
}

function sendProblem(http: FastifyInstance, request: FastifyRequest, reply: FastifyReply, error: unknown) {
  const problem = problemOf(error, request.url.split("?")[0]);
  http.countProblem(problem.code);
  if (problem.status >= 500) request.log.error({ err: error }, "request failed");
  else noteRefusal(request, problem.code, problem.detail);
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
