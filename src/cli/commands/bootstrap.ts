import type { Command } from "commander";
import { KeyfleetCommand } from "../program.js";
import { execute, globals } from "../execute.js";
import { print, type CliIo } from "../io.js";
import { durationOption } from "../parse.js";

export function bootstrapCommand(io: CliIo): Command {
  const bootstrap = new KeyfleetCommand("bootstrap").description(
    "one-time bootstrap tokens, for devices that enroll without an IDevID",
  );
  bootstrap
    .command("create")
    .description(
      "a token bound to one device, good for one enrollment (EST: HTTP Basic, username the device id); shown once",
    )
    .requiredOption("--device <id>", "the device it is for")
    .option("--ttl <duration>", "lifetime: 30s, 15m, 2h, 7d at most (default 15m)")
    .action(async (o: { device: string; ttl?: string }, command: Command) => {
      const t = await execute(command, io, "bootstrap.create", {
        deviceId: o.device,
        ttlSeconds: o.ttl === undefined ? undefined : durationOption("--ttl", o.ttl),
      });
      print(io, globals(command).json, t, () => `${t.token}\n(device ${t.deviceId}, until ${t.expiresAt})`);
    });
  return bootstrap;
}
