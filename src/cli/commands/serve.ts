import type { Command } from "commander";
import { KeyfleetCommand } from "../program.js";
import { commandConfig } from "../execute.js";
import type { CliIo } from "../io.js";

export function serveCommand(io: CliIo): Command {
  return new KeyfleetCommand("serve")
    .description(
      "run the HTTPS API and the plain-HTTP revocation endpoints (initializes an empty data directory)",
    )
    .option("--host <host>", "address to listen on (KEYFLEET_HOST; default 127.0.0.1)")
    .option("--https-port <port>", "HTTPS port (KEYFLEET_HTTPS_PORT; default 8443)")
    .option("--http-port <port>", "plain HTTP port (KEYFLEET_HTTP_PORT; default 8080)")
    .option("--public-url <url>", "base URL written into certificates, on first start (KEYFLEET_PUBLIC_URL)")
    .action(
      async (
        options: { host?: string; httpsPort?: string; httpPort?: string; publicUrl?: string },
        command: Command,
      ) => {
        const config = commandConfig(command, io, { ...options, logLevel: undefined });
        const { serve } = await import("../serve.js");
        await serve(config, io);
      },
    );
}
