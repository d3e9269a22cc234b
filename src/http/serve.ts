/** Starting the two listeners: HTTPS (everything) and plain HTTP (the public revocation surface). */
import type { AddressInfo } from "node:net";
import type { Server as TlsServer } from "node:tls";
import type { FastifyInstance } from "fastify";
import type { App } from "../app.js";
import { KeyfleetError } from "../domain/index.js";
import { createMetrics } from "./metrics.js";
import { buildHttpApp } from "./server.js";
import { secureContextOptions, tlsRenewal, TLS_RENEWAL_CHECK_MS } from "./tls-renewal.js";

export interface RunningServers {
  readonly https: FastifyInstance;
  readonly http: FastifyInstance;
  readonly httpsUrl: string;
  readonly httpUrl: string;
  /** Renews the HTTPS certificate now if it is due (the periodic check); true if it was swapped. */
  renewTlsIfDue(): Promise<boolean>;
  close(): Promise<void>;
}

export async function startServers(app: App): Promise<RunningServers> {
  const { host, httpsPort, httpPort } = app.config;
  const hostnames = [host, new URL(await app.authority.publicUrl()).hostname];
  const identity = await app.authority.serverTlsIdentity(hostnames);
  const metrics = createMetrics(); // one registry: HTTPS /metrics counts both listeners
  // EST devices authenticate with a TLS client certificate (their IDevID, or their Keyfleet
  // certificate to renew it), so the handshake asks for one; a client without one still connects
  // (admin API, bootstrap tokens). The certificate is judged by enrollment, not by node:tls: an
  // IDevID chains to a manufacturer's CA, which no one trust store here holds.
  const https = await buildHttpApp(
    app,
    "full",
    { https: { ...secureContextOptions(identity), requestCert: true, rejectUnauthorized: false } },
    metrics,
  );
  const http = await buildHttpApp(app, "public", {}, metrics);
  try {
    await listen(https, host, httpsPort, "--https-port");
    await listen(http, host, httpPort, "--http-port");
  } catch (e) {
    await Promise.allSettled([https.close(), http.close()]);
    throw e;
  }
  app.logger.info(
    { serial: identity.serial, notAfter: identity.notAfter.toISOString() },
    "server TLS certificate",
  );
  if (app.oidc) {
    const { issuer, audience, jwksUrl } = app.oidc.settings;
    app.logger.info({ issuer, audience, jwksUrl }, "admin API accepts OIDC bearer JWTs");
  }
  const renewal = tlsRenewal({
    authority: app.authority,
    hostnames,
    identity,
    server: https.server as unknown as TlsServer, // an https.Server, which is a tls.Server
    logger: app.logger,
    intervalMs: TLS_RENEWAL_CHECK_MS,
  });
  const urlOf = (server: FastifyInstance, scheme: string) => {
    const address = server.server.address() as AddressInfo;
    const h = address.family === "IPv6" ? `[${address.address}]` : address.address;
    return `${scheme}://${h}:${address.port}`;
  };
  return {
    https,
    http,
    httpsUrl: urlOf(https, "https"),
    httpUrl: urlOf(http, "http"),
    renewTlsIfDue: renewal.renewIfDue,
    close: async () => {
      await renewal.stop();
      await Promise.allSettled([https.close(), http.close()]);
    },
  };
}

/** Listens, turning the two failures an operator can fix (port taken, port forbidden) into one clear error. */
async function listen(server: FastifyInstance, host: string, port: number, flag: string): Promise<void> {
  try {
    await server.listen({ host, port });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") {
      throw new KeyfleetError(
        "unavailable",
        `port ${port} on ${host} is in use (another keyfleet serve?): stop it, or choose another with ${flag}`,
        { cause: e },
      );
    }
    if (code === "EADDRNOTAVAIL") {
      throw new KeyfleetError(
        "unavailable",
        `${host} is not an address of this machine: choose another with --host (KEYFLEET_HOST)`,
        { cause: e },
      );
    }
    if (code === "EACCES") {
      throw new KeyfleetError(
        "unavailable",
        `port ${port} on ${host} may not be opened by this user (ports below 1024 need privileges): choose another with ${flag}`,
        { cause: e },
      );
    }
    throw e;
  }
}
