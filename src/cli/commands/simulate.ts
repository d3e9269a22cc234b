import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { KeyfleetError, quoted } from "../../domain/index.js";
import { KeyfleetCommand } from "../program.js";
import { execute, globals } from "../execute.js";
import { print, type CliIo } from "../io.js";
import { integerOption } from "../parse.js";

interface SimulateFlags {
  devices: string;
  concurrency: string;
  server?: string;
  caBundle?: string;
  renew: boolean;
  state?: string;
}

export function simulateCommand(io: CliIo): Command {
  return new KeyfleetCommand("simulate")
    .description(
      "a fleet of device agents against a running server: registers the devices, enrolls each with its own key and a bootstrap token, renews them, and reports rates and failures",
    )
    .requiredOption("--devices <n>", "how many devices (at most 100000)")
    .option("--concurrency <n>", "agents at work at once", "16")
    .option("--server <url>", "the server's HTTPS URL (default: the server running on this data directory)")
    .option(
      "--ca-bundle <file>",
      "the chain that the server's TLS certificate validates to (default: the authority's)",
    )
    .option("--no-renew", "enroll only")
    .option("--state <dir>", "keep the agents' state directories here (default: removed afterwards)")
    .action(async (o: SimulateFlags, command: Command) => {
      const { maxSimulatedDevices } = await import("../operations/simulate.js");
      const count = integerOption("--devices", o.devices, 1, maxSimulatedDevices);
      const concurrency = integerOption("--concurrency", o.concurrency, 1, 1024);
      const server = o.server === undefined ? undefined : httpsUrl(o.server);
      const caBundle = o.caBundle === undefined ? undefined : await readText(o.caBundle);
      const target = await execute(command, io, "simulate.target", { server: server?.href });
      const trust = caBundle ?? target.chainPem;
      const { EstClient, runFleet, formatFleetReport } = await import("../../agent/index.js");
      // Reached before anything is registered: a mistyped --server leaves no devices behind.
      await new EstClient({ server: new URL(target.server), ca: trust }).cacerts();
      const fleet = await execute(command, io, "simulate.prepare", { count });
      const stateRoot = o.state ?? (await mkdtemp(join(tmpdir(), "keyfleet-simulate-")));
      try {
        const report = await runFleet({
          server: new URL(target.server),
          caBundlePem: trust,
          devices: fleet.devices,
          concurrency,
          stateRoot,
          phases: o.renew ? ["enroll", "renew"] : ["enroll"],
          progress: (phase, done, failed, total) =>
            io.status?.(
              `${phase}: ${done.toLocaleString("en")} of ${total.toLocaleString("en")} devices${failed ? `, ${failed} failed` : ""}`,
            ),
        });
        io.status?.("");
        const summary = { run: fleet.run, server: target.server, devices: count, concurrency, ...report };
        print(io, globals(command).json, summary, () =>
          [
            `fleet ${fleet.run}: ${count.toLocaleString("en")} devices at ${target.server}, ${concurrency} at once (each labelled simulation=${fleet.run})`,
            formatFleetReport(report),
            `retire them: keyfleet job start retire --label simulation=${fleet.run}`,
          ].join("\n"),
        );
        const [first] = report.failures;
        if (first) {
          throw new KeyfleetError(
            first.code,
            `${report.failures.length} of ${count} devices failed; the first, ${first.deviceId} (${first.phase}): ${first.message}`,
          );
        }
      } finally {
        io.status?.("");
        if (o.state === undefined) await rm(stateRoot, { recursive: true, force: true });
      }
    });
}

function httpsUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new KeyfleetError("malformed-request", `--server ${quoted(text, 200)} is not a URL`);
  }
  if (url.protocol !== "https:") {
    throw new KeyfleetError(
      "malformed-request",
      `--server ${quoted(text, 200)}: devices enroll over https:// only`,
    );
  }
  return url;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (cause) {
    throw new KeyfleetError("invalid-configuration", `cannot read --ca-bundle ${quoted(file, 200)}`, {
      cause,
    });
  }
}
