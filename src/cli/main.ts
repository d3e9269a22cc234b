/**
 * The `keyfleet` command. Every subcommand has --help and --json, works on the data directory or
 * DATABASE_URL without a running server (beside one, through it), and fails with one line
 * `keyfleet: <what went wrong> (<code>)` and exit 1. Only commander and the command definitions are
 * loaded to parse; each command loads what it uses when it runs.
 */
import { CommanderError, type Command } from "commander";
import { isKeyfleetError } from "../domain/index.js";
import { auditCommand } from "./commands/audit.js";
import { benchCommand } from "./commands/bench.js";
import { bootstrapCommand } from "./commands/bootstrap.js";
import { caCommand } from "./commands/ca.js";
import { certCommand } from "./commands/cert.js";
import { configCommand } from "./commands/config.js";
import { crlCommand } from "./commands/crl.js";
import { deviceCommand } from "./commands/device.js";
import { eventsCommand } from "./commands/events.js";
import { groupCommand } from "./commands/group.js";
import { helpCommand } from "./commands/help.js";
import { initCommand } from "./commands/init.js";
import { jobCommand } from "./commands/job.js";
import { kekCommand } from "./commands/kek.js";
import { manufacturerCommand } from "./commands/manufacturer.js";
import { policyCommand } from "./commands/policy.js";
import { serveCommand } from "./commands/serve.js";
import { simulateCommand } from "./commands/simulate.js";
import { tokenCommand } from "./commands/token.js";
import { processIo, type CliIo } from "./io.js";
import { KeyfleetCommand, configure } from "./program.js";

export function program(io: CliIo = processIo): Command {
  const root = new KeyfleetCommand("keyfleet")
    .description("Keyfleet: device identity authority")
    .option("--data <dir>", "data directory (KEYFLEET_DATA; default ./keyfleet-data)")
    .option("--database-url <url>", "postgres://… (DATABASE_URL; default: PGlite in the data directory)")
    .option("--json", "machine-readable output");
  for (const make of [
    initCommand,
    serveCommand,
    configCommand,
    caCommand,
    certCommand,
    crlCommand,
    deviceCommand,
    eventsCommand,
    groupCommand,
    manufacturerCommand,
    bootstrapCommand,
    jobCommand,
    policyCommand,
    tokenCommand,
    kekCommand,
    auditCommand,
    simulateCommand,
    benchCommand,
  ]) {
    root.addCommand(make(io));
  }
  root.addCommand(helpCommand(root));
  return configure(root, io);
}

/** Runs the CLI on `argv` (as process.argv: node, script, arguments…); resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  try {
    await program(io).parseAsync([...argv]);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError && ["commander.helpDisplayed", "commander.help"].includes(e.code)) {
      return 0;
    }
    io.err(errorLine(e));
    return 1;
  }
}

/** The one line a failure prints. */
export function errorLine(e: unknown): string {
  if (e instanceof CommanderError) {
    // "error: unknown option '--cssr'\n(Did you mean --csr?)" → "unknown option '--cssr'; did you mean --csr?"
    const text = e.message
      .replace(/^error: /, "")
      .replace(/\s*\n\s*\(Did you mean (.*)\)\s*$/s, "; did you mean $1")
      .replace(/\s*\n\s*/g, " ");
    return `keyfleet: ${text} (malformed-request)`;
  }
  if (isKeyfleetError(e)) return `keyfleet: ${oneLine(e.message)} (${e.code})`;
  return `keyfleet: unexpected error: ${oneLine(e instanceof Error ? e.message : String(e))} (internal)`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ");
}
