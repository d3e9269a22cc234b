/** Runs the CLI from source (tests, `tsx src/cli/entry.ts`); the installed command is bin/keyfleet.js. */
import { main } from "./main.js";

process.exitCode = await main(process.argv);
