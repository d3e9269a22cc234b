import { writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { openApp } from "../../app.js";
import { loadConfig } from "../../config.js";
import { ensureInitialized } from "../../first-run.js";
import { startServers } from "../../http/index.js";
import { createLogger } from "../../logger.js";
import { globals, type Output } from "../context.js";

export function serveCommand(output: Output): Command {
  return new Command("serve")
    .description(
      "run the HTTPS API and the plain-HTTP revocation endpoints (initializes an empty data directory)",
    )
    .option("--host <host>", "address to listen on (default 127.0.0.1)")
    .option("--https-port <port>", "HTTPS port (default 8443)")
    .option("--http-port <port>", "plain HTTP port (default 8080)")
    .option("--public-url <url>", "base URL written into certificates (KEYFLEET_PUBLIC_URL)")
    .action(
      async (
        options: { host?: string; httpsPort?: string; httpPort?: string; publicUrl?: string },
        command: Command,
      ) => {
        const g = globals(command);
        const config = loadConfig({ dataDir: g.data, databaseUrl: g.databaseUrl, ...options });
        const logger = createLogger(config.logLevel);
        const app = await openApp(config, logger, { csrWorkers: availableParallelism(), create: true });
        try {
          const run = await ensureInitialized(app, { algorithm: "p256" });
          const servers = await startServers(app);
          // The chain that HTTPS clients trust, where they can read it while the server holds the
          // database (on PGlite, other commands cannot open it until the server stops).
          const chainFile = join(config.dataDir, "ca-chain.pem");
          await writeFile(chainFile, (await app.authority.chain()).pem, { mode: 0o644 });
          output.out(
            [
              `Keyfleet is serving (${app.database.kind} database${config.databaseUrl ? "" : ` in ${config.dataDir}`})`,
              `  admin API      ${servers.httpsUrl}/api/v1/   (OpenAPI: ${servers.httpsUrl}/openapi.json)`,
              `  public HTTP    ${servers.httpUrl}/   (CA certificates; CRLs and OCSP arrive with revocation)`,
              `  CA chain       ${chainFile}   (curl --cacert ${chainFile} ${servers.httpsUrl}/healthz)`,
              run.adminTokenFile
                ? `  first admin token: ${run.adminTokenFile} (mode 0600; read it, then keep it somewhere safe)`
                : `  admin tokens: \`keyfleet token create --role admin\``,
            ].join("\n"),
          );
          await new Promise<void>((resolve) => {
            process.once("SIGINT", resolve);
            process.once("SIGTERM", resolve);
          });
          await servers.close();
        } finally {
          await app.close();
        }
      },
    );
}
