import { Command } from "commander";
import type { Device } from "../../registry/index.js";
import { globals, print, withApp, type Output } from "../context.js";
import { deviceCursorOption, limitOption, readInput } from "../parse.js";

export function deviceCommand(output: Output): Command {
  const device = new Command("device").description("devices");
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
        const idevid = o.idevid === undefined ? undefined : await readInput(o.idevid);
        await withApp(command, {}, async (app) => {
          const d = await app.devices.register({
            serialNumber: o.serial,
            model: o.model,
            manufacturer: o.manufacturer,
            tenant: o.tenant,
            region: o.region,
            idevid,
          });
          print(output, globals(command).json, d, () => d.id);
        });
      },
    );
  device
    .command("show")
    .argument("<id>")
    .description("one device")
    .action(async (id: string, _o, command: Command) => {
      await withApp(command, {}, async (app) => {
        const d = await app.devices.get(id);
        print(output, globals(command).json, d, () => describe(d));
      });
    });
  device
    .command("list")
    .description("devices, by id")
    .option("--limit <n>", "page size (1–500)", "50")
    .option("--after <id>", "continue after this device id")
    .action(async (o: { limit: string; after?: string }, command: Command) => {
      const limit = limitOption(o.limit);
      const after = o.after === undefined ? undefined : deviceCursorOption(o.after);
      await withApp(command, {}, async (app) => {
        const list = await app.devices.list({ limit, ...(after === undefined ? {} : { after }) });
        print(output, globals(command).json, list, () =>
          list.map((d) => `${d.id}  ${d.state.padEnd(12)} ${d.tenant}  ${d.serialNumber}`).join("\n"),
        );
      });
    });
  return device;
}

function describe(d: Device): string {
  return Object.entries(d)
    .map(([k, v]) => `${k.padEnd(14)} ${v instanceof Date ? v.toISOString() : String(v)}`)
    .join("\n");
}
