/**
 * `keyfleet events exec`: an outbox consumer that runs an operator's command once per event of the
 * types named (a broker's SIGHUP after each `crl.published`), with its cursor kept in a file.
 */
import { resolve } from "node:path";
import type { Command } from "commander";
import { KeyfleetError, quoted } from "../../domain/index.js";
import { KeyfleetCommand } from "../program.js";
import { commandConfig, executeSession } from "../execute.js";
import type { CliIo } from "../io.js";

export function eventsCommand(io: CliIo): Command {
  const events = new KeyfleetCommand("events").description("the outbox: events dependent services follow");
  events
    .command("exec")
    .description(
      "run COMMAND (no shell) once per event of the types named, in order, as it arrives; the event is in its environment (KEYFLEET_EVENT_TYPE, _ID, _POSITION, _SUBJECT, _PAYLOAD as JSON) and on its stdin (JSON); the cursor is saved after each command succeeds, so a restart neither misses nor repeats one; a failing command stops the consumer (exit 1) before its event",
    )
    .argument("<command...>", "the command and its arguments, after --")
    .requiredOption("--type <type>", "an event type to follow (repeatable), e.g. crl.published", collect)
    .requiredOption("--cursor <file>", "where the position of the last event handled is kept")
    .option(
      "--from <where>",
      "with no cursor file yet: now (only events from here on) or start (every past event too)",
      "now",
    )
    .option("--interval <seconds>", "how often to look for new events (0.1–3600)", "2")
    .option("--once", "handle the events there are now, then exit")
    .action(
      async (
        argv: string[],
        o: { type: string[]; cursor: string; from: string; interval: string; once?: boolean },
        command: Command,
      ) => {
        if (o.from !== "now" && o.from !== "start") {
          throw new KeyfleetError("malformed-request", `--from must be now or start, got ${quoted(o.from)}`);
        }
        const config = commandConfig(command, io);
        const { followEvents, serverSource } = await import("../events-exec.js");
        const source = config.databaseUrl ? executeSession(command, io) : serverSource(config.dataDir);
        try {
          await followEvents(io, source, {
            types: o.type,
            cursorFile: resolve(o.cursor),
            from: o.from,
            intervalMs: intervalOption(o.interval),
            once: o.once === true,
            command: argv,
          });
        } finally {
          await source.close();
        }
      },
    );
  return events;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function intervalOption(value: string): number {
  const seconds = /^[0-9]{1,4}(\.[0-9]{1,3})?$/.test(value) ? Number(value) : NaN;
  if (!(seconds >= 0.1 && seconds <= 3600)) {
    throw new KeyfleetError(
      "malformed-request",
      `--interval must be a number of seconds from 0.1 to 3600, got ${quoted(value)}`,
    );
  }
  return Math.round(seconds * 1000);
}
