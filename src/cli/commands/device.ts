import type { Command } from "commander";
import { KeyfleetCommand } from "../program.js";
import { execute, globals } from "../execute.js";
import { print, type CliIo } from "../io.js";
import { deviceCursorOption, limitOption, readInput } from "../parse.js";

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
    .action(
      async (
        o: {
          serial: string;
          model?: string;
          manufacturer?: string;
          tenant?: string;
          region?: string;
          idevid?: string;
        },
        command: Command,
      ) => {
        const d = await execute(command, io, "device.register", {
          serialNumber: o.serial,
          model: o.model,
          manufacturer: o.manufacturer,
          tenant: o.tenant,
          region: o.region,
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
          .map(([k, v]) => `${k.padEnd(14)} ${String(v)}`)
          .join("\n"),
      );
    });
  device
    .command("list")
    .description("devices, by id")
    .option("--limit <n>", "page size (1–500)", "50")
    .option("--after <id>", "continue after this device id")
    .action(async (o: { limit: string; after?: string }, command: Command) => {
      const list = await execute(command, io, "device.list", {
        limit: limitOption(o.limit),
        after: o.after === undefined ? undefined : deviceCursorOption(o.after),
      });
      print(io, globals(command).json, list, () =>
        list.map((d) => `${d.id}  ${d.state.padEnd(12)} ${d.tenant}  ${d.serialNumber}`).join("\n"),
      );
    });
  return device;
}
