import type { Command } from "commander";
import { KeyfleetCommand } from "../program.js";
import { deviceFilterOf, withDeviceFilters, type DeviceFilterFlags } from "../device-filters.js";
import { execute, executeSession, globals } from "../execute.js";
import { print, type CliIo } from "../io.js";
import { integerOption, limitOption, rateOption, sequenceCursorOption } from "../parse.js";
import type { OutputOf } from "../operations/index.js";
import type { JobCommand } from "../../registry/index.js";

type JobJson = OutputOf<"job.step">;

// Stated here for help without loading the registry at parse time; the registry checks the command.
const commands = [
  "suspend",
  "resume",
  "retire",
  "cancel",
  "finalize",
  "rotate",
] as const satisfies readonly JobCommand[];

function jobLine(j: JobJson): string {
  const done = j.applied + j.refused;
  const rate = j.rate === null ? "" : `  at ${j.rate.devices}/${j.rate.per === "second" ? "s" : "min"}`;
  return `${j.id}  ${j.command.padEnd(8)} ${j.state.padEnd(7)} ${done}/${j.total} (${j.applied} applied, ${j.refused} refused)${rate}  by ${j.createdBy}`;
}

/** Works a job step by step to its end, drawing its progress on a terminal; a kill leaves it resumable. */
async function runToEnd(command: Command, io: CliIo, id: string): Promise<JobJson> {
  const session = executeSession(command, io);
  try {
    let before = -1;
    for (;;) {
      const job = await session.run("job.step", { id });
      const done = job.applied + job.refused;
      io.status?.(
        `${job.command}: ${done.toLocaleString("en")} of ${job.total.toLocaleString("en")} devices`,
      );
      // Done, or a step that moved nothing: another worker holds the job, and it goes on there.
      if (job.state === "done" || done === before) return job;
      before = done;
    }
  } finally {
    io.status?.("");
    await session.close();
  }
}

export function jobCommand(io: CliIo): Command {
  const job = new KeyfleetCommand("job").description(
    "bulk jobs: a lifecycle command, or a rotation request, for every device matching a filter",
  );
  withDeviceFilters(
    job
      .command("start")
      .argument("<command>", commands.join(" | "))
      .description(
        "apply the command to every device the filters match (stored; resumable after a crash); rotate marks each active device due for rotation, its agent told at its next check-in",
      ),
  )
    .option("--reason <text>", "why, kept in every device's history and the audit log")
    .option("--cap <n>", "refuse if more devices than this match (default 10000)")
    .option("--dry-run", "count the devices and show a sample; change nothing")
    .option("--rate <n/s|n/min>", "rotate: spread the devices' due times, so many per second or minute")
    .action(
      async (
        name: string,
        o: DeviceFilterFlags & {
          reason?: string;
          cap?: string;
          dryRun?: boolean;
          rate?: string;
        },
        command: Command,
      ) => {
        const started = await execute(command, io, "job.start", {
          command: name as (typeof commands)[number],
          filter: deviceFilterOf(o),
          dryRun: o.dryRun,
          cap: o.cap === undefined ? undefined : integerOption("--cap", o.cap, 1, Number.MAX_SAFE_INTEGER),
          reason: o.reason,
          rate: o.rate === undefined ? undefined : rateOption(o.rate),
        });
        if (started.dryRun) {
          print(io, globals(command).json, started, () =>
            [
              `${started.count} ${started.count === 1 ? "device matches" : "devices match"}; a sample:`,
              ...started.sample.map((d) => `  ${d.id}  ${d.state.padEnd(12)} ${d.serialNumber}`),
            ].join("\n"),
          );
          return;
        }
        const done = await runToEnd(command, io, started.job.id);
        print(io, globals(command).json, done, () => jobLine(done));
      },
    );
  job
    .command("resume")
    .argument("<id>")
    .description(
      "go on with a job that stopped (a crash, a killed command): no device gets the command twice",
    )
    .action(async (id: string, _o, command: Command) => {
      const done = await runToEnd(command, io, id);
      print(io, globals(command).json, done, () => jobLine(done));
    });
  job
    .command("show")
    .argument("<id>")
    .description("one job: its progress, and the devices that refused the command")
    .action(async (id: string, _o, command: Command) => {
      const j = await execute(command, io, "job.show", { id });
      print(io, globals(command).json, j, () =>
        [jobLine(j), ...j.refusedItems.map((r) => `  refused ${r.deviceId}: ${r.message} (${r.code})`)].join(
          "\n",
        ),
      );
    });
  job
    .command("list")
    .description("jobs, newest first")
    .option("--limit <n>", "page size (1–500)", "50")
    .option("--after <cursor>", "continue after this cursor (`next` of the previous page)")
    .action(async (o: { limit: string; after?: string }, command: Command) => {
      const page = await execute(command, io, "job.list", {
        limit: limitOption(o.limit),
        after: o.after === undefined ? undefined : sequenceCursorOption(o.after),
      });
      print(io, globals(command).json, page, () => page.items.map(jobLine).join("\n"));
    });
  return job;
}
