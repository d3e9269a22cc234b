/** Runs the agent from source (tests, `tsx src/agent/entry.ts`); the installed command is bin/keyfleet-agent.js. */
import { main } from "./cli.js";

process.exitCode = await main(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
