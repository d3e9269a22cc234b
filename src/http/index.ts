/**
 * HTTP: the Fastify applications (admin API with Bearer tokens and problem details, public CA and
 * revocation endpoints, OpenAPI, metrics) and the listeners. Routes call services; they touch no key.
 */
export { buildHttpApp, type Surface } from "./server.js";
export { startServers, type RunningServers } from "./serve.js";
export { problemOf, type Problem } from "./problem.js";
