import type { Command } from "commander";
import { KeyfleetCommand } from "../program.js";
import { commandConfig, globals } from "../execute.js";
import { print, type CliIo } from "../io.js";
import { integerOption } from "../parse.js";

export function benchCommand(io: CliIo): Command {
  return new KeyfleetCommand("bench")
    .description(
      "measure issuance (CSR checked → signed → committed) next to raw P-256 signing, in scratch space that is removed afterwards",
    )
    .option("--count <n>", "certificates per store", "20000")
    .option("--concurrency <n>", "requests in flight", "256")
    .option(
      "--stores <list>",
      "pglite, postgres or both, comma-separated (default: pglite, and postgres when a database URL is set)",
    )
    .action(async (options: { count: string; concurrency: string; stores?: string }, command: Command) => {
      const config = commandConfig(command, io);
      const { formatBenchReport, parseStores, runIssuanceBench } = await import("../issuance-bench.js");
      const stores = parseStores(options.stores ?? (config.databaseUrl ? "pglite,postgres" : "pglite"));
      const report = await runIssuanceBench({
        count: integerOption("--count", options.count, 1, 10_000_000),
        concurrency: integerOption("--concurrency", options.concurrency, 1, 100_000),
        stores,
        postgresUrl: config.databaseUrl,
      });
      print(io, globals(command).json, report, () => formatBenchReport(report));
    });
}
