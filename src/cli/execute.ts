/**
 * How a command runs its operation: through the server that holds this data directory (embedded
 * default, `keyfleet serve` running), or on an app the command opens itself. Loading the app and
 * the operations waits until here, so parsing options and printing help stay fast.
 */
import type { Command } from "commander";
import { loadConfig, type Config } from "../config.js";
import { forwardToServer } from "./control-client.js";
import type { CliIo } from "./io.js";
import type { InputOf, OperationName, OutputOf } from "./operations/index.js";

export interface GlobalOptions {
  readonly data?: string;
  readonly databaseUrl?: string;
  readonly json?: boolean;
}

export function globals(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

/** The configuration a command works with: its global flags over the environment. */
export function commandConfig(
  command: Command,
  io: CliIo,
  flags: Parameters<typeof loadConfig>[0] = {},
): Config {
  const g = globals(command);
  return loadConfig({ dataDir: g.data, databaseUrl: g.databaseUrl, logLevel: "warn", ...flags }, io.env);
}

export async function execute<N extends OperationName>(
  command: Command,
  io: CliIo,
  name: N,
  input: InputOf<N>,
): Promise<OutputOf<N>> {
  const config = commandConfig(command, io);
  // PostgreSQL serves any number of processes: only the embedded database needs its server.
  const forwarded = config.databaseUrl ? undefined : await forwardToServer(config.dataDir, name, input);
  if (forwarded) return forwarded.output as OutputOf<N>;
  const { runLocally } = await import("./local.js");
  return (await runLocally(config, io, name, input)) as OutputOf<N>;
}

/**
 * For a command that runs many operations (paging): each goes through the running server when
 * there is one, as `execute` does; otherwise one app is opened for them all, not one per call.
 */
export function executeSession(command: Command, io: CliIo) {
  const config = commandConfig(command, io);
  let local:
    | Promise<{ run(name: OperationName, input: unknown): Promise<unknown>; close(): Promise<void> }>
    | undefined;
  return {
    async run<N extends OperationName>(name: N, input: InputOf<N>): Promise<OutputOf<N>> {
      if (!local) {
        const forwarded = config.databaseUrl ? undefined : await forwardToServer(config.dataDir, name, input);
        if (forwarded) return forwarded.output as OutputOf<N>;
        local = import("./local.js").then(({ openLocalSession }) => openLocalSession(config, io, name));
      }
      return (await (await local).run(name, input)) as OutputOf<N>;
    },
    async close(): Promise<void> {
      await (await local?.catch(() => undefined))?.close();
    },
  };
}
