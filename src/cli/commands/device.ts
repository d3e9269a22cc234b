import type { Command } from "commander";
import { KeyfleetCommand } from "../program.js";
import { deviceFilterOf, withDeviceFilters, type DeviceFilterFlags } from "../device-filters.js";
import { execute, globals } from "../execute.js";
import { print, type CliIo } from "../io.js";
import { deviceCursorOption, integerOption, limitOption, readInput, sequenceCursorOption } from "../parse.js";
import type { LifecycleEventJson, OperatorCommand } from "../../registry/index.js";

/** What each operator command does, for help. */
const commandHelp: Readonly<Record<OperatorCommand, string>> = {
  suspend: "suspend an active, rotating or updating device: every certificate of it goes on hold",
  resume: "resume a suspended device: its certificates on hold are good again",
  retire: "start decommissioning: certificates on hold, cancellable within the grace period",
  cancel: "cancel a decommissioning within its grace period (the device is then suspended)",
  finalize: "end decommissioning: every certificate revoked, the hardware identity never usable again",
};

interface ListOptions extends DeviceFilterFlags {
  limit: string;
  after?: string;
  expiringBefore?: string;
}

/** Commander's accumulator for a repeatable option. */
const collect = (value: string, previous: string[]) => [...previous, value];

function eventLine(e: LifecycleEventJson): string {
  const why = e.reason === null ? "" : `  ${JSON.stringify(e.reason)}`;
  const creds =
    e.credentials.length === 0
      ? ""
      : `  (${e.credentials.length} certificate${e.credentials.length === 1 ? "" : "s"} ${e.credentials[0]!.status})`;
  return `${e.at}  v${e.version}  ${e.command.padEnd(8)} ${e.from} → ${e.to}  by ${e.actor}${why}${creds}`;
}

export function deviceCommand(io: CliIo): Command {
  const device = new KeyfleetCommand("device").description("devices");
  device
    .command("register")
    .description("register a device's hardware identity; prints the device id")
    .requiredOption("--serial <serial>", "the hardware serial number")
    .option("--model <model>")
    .option("--manufacturer <name>")
    .option("--tenant <tenant>")
    .option("--region <region>")
    .option("--idevid <file>", "the manufacturer's IDevID certificate (PEM or DER)")
    .option("--firmware <version>", "the firmware version it runs")
    .option("--group <name>", "a group it belongs to (repeat for several)", collect, [])
    .option("--label <key=value>", "a label (repeat for several)", collect, [])
    .action(
      async (
        o: {
          serial: string;
          model?: string;
          manufacturer?: string;
          tenant?: string;
          region?: string;
          idevid?: string;
          firmware?: string;
          group: string[];
          label: string[];
        },
        command: Command,
      ) => {
        const d = await execute(command, io, "device.register", {
          serialNumber: o.serial,
          model: o.model,
          manufacturer: o.manufacturer,
          tenant: o.tenant,
          region: o.region,
          firmwareVersion: o.firmware,
          groups: o.group,
          labels: o.label,
          idevid: o.idevid === undefined ? undefined : await readInput(o.idevid),
        });
        print(io, globals(command).json, d, () => d.id);
      },
    );
  device
    .command("show")
    .argument("<id>")
    .description("one device")
    .action(async (id: string, _o, command: Command) => {
      const d = await execute(command, io, "device.show", { id });
      print(io, globals(command).json, d, () =>
        Object.entries(d)
          .map(
            ([k, v]) =>
              `${k.padEnd(16)} ${v !== null && typeof v === "object" ? JSON.stringify(v) : String(v)}`,
          )
          .join("\n"),
      );
    });
  withDeviceFilters(
    device
      .command("list")
      .description("devices, by id; filters narrow the list, all of them together")
      .option("--limit <n>", "page size (1–500)", "50"),
  )
    .option("--expiring-before <time>", "with a good certificate expiring before this ISO 8601 time")
    .option("--after <id>", "continue after this device id")
    .action(async (o: ListOptions, command: Command) => {
      const list = await execute(command, io, "device.list", {
        limit: limitOption(o.limit),
        after: o.after === undefined ? undefined : deviceCursorOption(o.after),
        ...deviceFilterOf(o),
        certificateExpiringBefore: o.expiringBefore,
      });
      print(io, globals(command).json, list, () =>
        list.map((d) => `${d.id}  ${d.state.padEnd(12)} ${d.tenant}  ${d.serialNumber}`).join("\n"),
      );
    });
  device
    .command("history")
    .argument("<id>")
    .description("a device's lifecycle transitions, oldest first, with who, why and the evidence")
    .option("--limit <n>", "page size (1–500)", "50")
    .option("--after <cursor>", "continue after this cursor (`next` of the previous page)")
    .action(async (id: string, o: { limit: string; after?: string }, command: Command) => {
      const page = await execute(command, io, "device.history", {
        id,
        limit: limitOption(o.limit),
        after: o.after === undefined ? undefined : sequenceCursorOption(o.after),
      });
      print(io, globals(command).json, page, () => page.items.map(eventLine).join("\n"));
    });
  for (const name of Object.keys(commandHelp) as OperatorCommand[]) {
    const sub = device
      .command(name)
      .argument("<id>")
      .description(commandHelp[name])
      .option("--reason <text>", "why, kept in the history and the audit log")
      .option(
        "--if-version <n>",
        "only if the device is still at this version (as `device show` printed it)",
      );
    if (name === "finalize")
      sub.option("--compromised", "revoke with keyCompromise (default cessationOfOperation)");
    sub.action(
      async (
        id: string,
        o: { reason?: string; ifVersion?: string; compromised?: boolean },
        command: Command,
      ) => {
        const result = await execute(command, io, "device.command", {
          id,
          command: name,
          reason: o.reason,
          compromised: o.compromised,
          ifMatch:
            o.ifVersion === undefined
              ? undefined
              : integerOption("--if-version", o.ifVersion, 1, 2 ** 31 - 1),
        });
        print(io, globals(command).json, result, () => eventLine(result.event));
      },
    );
  }
  return device;
}
