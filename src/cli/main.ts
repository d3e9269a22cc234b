/**
 * The `keyfleet` command. Every subcommand has --help and --json, works on the data directory or
 * DATABASE_URL without a running server, and fails with one line and a non-zero exit.
 */
import "reflect-metadata";
import { Command, CommanderError } from "commander";
import { isKeyfleetError } from "../domain/index.js";
import { processOutput, type Output } from "./context.js";
import { benchCommand } from "./commands/bench.js";
import { caCommand } from "./commands/ca.js";
import { certCommand } from "./commands/cert.js";
import { deviceCommand } from "./commands/device.js";
import { initCommand } from "./commands/init.js";
import { serveCommand } from "./commands/serve.js";
import { tokenCommand } from "./commands/token.js";

export function program(output: Output = processOutput): Command {
  const root = new Command("keyfleet")
    .description("Keyfleet: device identity authority")
    .option("--data <dir>", "data directory (KEYFLEET_DATA; default ./keyfleet-data)")
    .option("--database-url <url>", "postgres://… (DATABASE_URL; default: PGlite in the data directory)")
    .option("--json", "machine-readable output")
    .exitOverride()
    .configureOutput({ writeOut: (s) => output.out(s.trimEnd()), writeErr: (s) => output.err(s.trimEnd()) })
    .showHelpAfterError(false);
  for (const make of [
    initCommand,
    serveCommand,
    caCommand,
    certCommand,
    tokenCommand,
    deviceCommand,
    benchCommand,
  ]) {
    root.addCommand(make(output));
  }
  for (const command of root.commands) propagate(command);
  return root;
}

function propagate(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) propagate(sub);
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: readonly string[], output: Output = processOutput): Promise<number> {
  try {
    await program(output).parseAsync([...argv]);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode; // commander already printed usage or help
    if (isKeyfleetError(e)) {
      output.err(`keyfleet: ${e.message} (${e.code})`);
      return 1;
    }
    output.err(`keyfleet: unexpected error: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}
