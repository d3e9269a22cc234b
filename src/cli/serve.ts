/**
 * `keyfleet serve`: open the app (creating the authority on first start), listen on HTTPS, plain
 * HTTP and, on the embedded default, the control socket through which CLI commands reach this
 * process; print where everything is; run until SIGINT or SIGTERM. A refused first start removes
 * the data directory it made.
 */
import { rm } from "node:fs/promises";
import { userInfo } from "node:os";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { openApp, type App } from "../app.js";
import type { Config } from "../config.js";
import { replaceFile } from "../data-directory.js";
import { KeyfleetError } from "../domain/index.js";
import { ensureInitialized, type FirstRun } from "../first-run.js";
import { startServers, type RunningServers } from "../http/index.js";
import { createLogger } from "../logger.js";
import { listenControlSocket, type ControlListener } from "./control-server.js";
import type { CliIo } from "./io.js";
import { exists } from "./local.js";

export async function serve(config: Config, io: CliIo): Promise<void> {
  const creates = !config.databaseUrl && !(await exists(config.dataDir));
  const logger = createLogger(config.logLevel);
  let app: App | undefined;
  let servers: RunningServers | undefined;
  let control: ControlListener | undefined;
  const stop = async () => {
    await control?.close();
    await servers?.close();
    await app?.close();
  };
  try {
    app = await openApp(config, logger, { csrWorkers: availableParallelism(), create: true });
    const run = await ensureInitialized(app, { algorithm: "p256", publicUrl: config.publicUrl });
    const publicUrl = await app.authority.publicUrl();
    if (config.publicUrl !== undefined && config.publicUrl !== publicUrl) {
      throw new KeyfleetError(
        "conflict",
        `the authority's public URL is ${publicUrl} (kept in the database); to change it, run \`keyfleet config set public-url ${config.publicUrl}\``,
      );
    }
    servers = await startServers(app);
    // The chain that HTTPS clients trust, where they can read it without asking the server (public:
    // 0644). Replaced, not written through: a link planted at the name is replaced, never followed.
    const chainFile = join(config.dataDir, "ca-chain.pem");
    await replaceFile(chainFile, (await app.authority.chain()).pem, 0o644);
    if (app.database.kind === "pglite") {
      control = await listenControlSocket(app, {
        actor: `cli:${userInfo().username}`,
        server: { adminUrl: servers.httpsUrl, publicHttpUrl: servers.httpUrl },
      });
    }
    await app.start(); // pre-signed artefacts, then the background tasks
    io.out(banner(app, servers, run, chainFile, publicUrl));
  } catch (e) {
    await stop();
    if (creates) await rm(config.dataDir, { recursive: true, force: true });
    throw e;
  }
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await stop();
}

function banner(
  app: App,
  servers: RunningServers,
  run: FirstRun,
  chainFile: string,
  publicUrl: string,
): string {
  const { config } = app;
  const where = config.databaseUrl ? "" : ` in ${config.dataDir}`;
  const expires = run.adminTokenExpiresAt ? `, expires ${run.adminTokenExpiresAt}` : "";
  return [
    `Keyfleet is serving (${app.database.kind} database${where})`,
    `  admin API      ${servers.httpsUrl}/api/v1/   (OpenAPI: ${servers.httpsUrl}/openapi.json)`,
    `  public HTTP    ${servers.httpUrl}/   (CA certificates, CRLs: /ca/<ca>.cer, /crl/<ca>.crl)`,
    `  public URL     ${publicUrl}   (in every new certificate; \`keyfleet config set public-url\` changes it)`,
    ...(new URL(publicUrl).port !== new URL(servers.httpUrl).port &&
    new URL(publicUrl).hostname === new URL(servers.httpUrl).hostname
      ? [`  warning: certificates point at ${publicUrl}, but this server's public HTTP is ${servers.httpUrl}`]
      : []),
    `  CA chain       ${chainFile}   (curl --cacert ${chainFile} ${servers.httpsUrl}/healthz)`,
    run.adminTokenFile
      ? `  first admin token: ${run.adminTokenFile} (mode 0600${expires}; read it, then keep it somewhere safe)`
      : `  admin tokens: \`keyfleet token create --role admin\` (in another shell: it goes through this server)`,
  ].join("\n");
}
