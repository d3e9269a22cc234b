import { Command } from "commander";
import { loadConfig } from "../../config.js";
import { globals, print, type Output } from "../context.js";
import { formatBenchReport, parseStores, runIssuanceBench } from "../issuance-bench.js";

export function benchCommand(output: Output): Command {
  return new Command("bench")
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
      const g = globals(command);
      const config = loadConfig({ dataDir: g.data, databaseUrl: g.databaseUrl });
      const stores = parseStores(options.stores ?? (config.databaseUrl ? "pglite,postgres" : "pglite"));
      const report = await runIssuanceBench({
        count: Number(options.count),
        concurrency: Number(options.concurrency),
        stores,
        postgresUrl: config.databaseUrl,
      });
      print(output, g.json, report, () => formatBenchReport(report));
    });
}
