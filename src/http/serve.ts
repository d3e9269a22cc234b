/** Starting the two listeners: HTTPS (everything) and plain HTTP (the public revocation surface). */
import type { AddressInfo } from "node:net";
import type { FastifyInstance, FastifyServerOptions } from "fastify";
import type { App } from "../app.js";
import { buildHttpApp } from "./server.js";

export interface RunningServers {
  readonly https: FastifyInstance;
  readonly http: FastifyInstance;
  readonly httpsUrl: string;
  readonly httpUrl: string;
  close(): Promise<void>;
}

export async function startServers(app: App): Promise<RunningServers> {
  const { host, httpsPort, httpPort, publicUrl } = app.config;
  const identity = await app.authority.serverTlsIdentity([host, new URL(publicUrl).hostname]);
  // Fastify types https options on a separate overload; the option itself is plain node:https.
  const tls = {
    https: { key: identity.privateKeyPem, cert: identity.certificateChainPem },
  } as unknown as FastifyServerOptions;
  const https = await buildHttpApp(app, "full", tls);
  const http = await buildHttpApp(app, "public");
  try {
    await https.listen({ host, port: httpsPort });
    await http.listen({ host, port: httpPort });
  } catch (e) {
    await Promise.allSettled([https.close(), http.close()]);
    throw e;
  }
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
    close: async () => {
      await Promise.allSettled([https.close(), http.close()]);
    },
  };
}
