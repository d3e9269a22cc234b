import type { Command } from "commander";
import { KeyfleetCommand } from "../program.js";
import { execute, globals } from "../execute.js";
import { print, type CliIo } from "../io.js";
import { limitOption, readInput } from "../parse.js";
import type { OutputOf } from "../operations/index.js";

type ManufacturerJson = OutputOf<"manufacturer.show">;

function manufacturerText(m: ManufacturerJson): string {
  return [
    `${m.name}  ${m.id}${m.description ? `  ${m.description}` : ""}`,
    ...m.certificates.map((c) => `  CA ${c.subject}  until ${c.notAfter}  sha256:${c.sha256.slice(0, 16)}…`),
  ].join("\n");
}

export function manufacturerCommand(io: CliIo): Command {
  const manufacturer = new KeyfleetCommand("manufacturer").description(
    "device makers and the CA certificates their devices' IDevIDs must validate to",
  );
  manufacturer
    .command("add")
    .argument("<name>", "as devices name it (device register --manufacturer)")
    .description("register a manufacturer with its CA certificates (ca-admin)")
    .requiredOption("--ca <file...>", "CA certificate files, PEM or DER (root and intermediates)")
    .option("--description <text>")
    .action(async (name: string, o: { ca: string[]; description?: string }, command: Command) => {
      const m = await execute(command, io, "manufacturer.add", {
        name,
        description: o.description,
        certificates: await Promise.all(o.ca.map(readInput)),
      });
      print(io, globals(command).json, m, () => manufacturerText(m));
    });
  manufacturer
    .command("add-ca")
    .argument("<manufacturer>", "name or id")
    .argument("<file>", "a CA certificate, PEM or DER")
    .description("add a CA certificate (a new root or intermediate) to a manufacturer")
    .action(async (name: string, file: string, _o, command: Command) => {
      const m = await execute(command, io, "manufacturer.add-ca", {
        manufacturer: name,
        certificate: await readInput(file),
      });
      print(io, globals(command).json, m, () => manufacturerText(m));
    });
  manufacturer
    .command("show")
    .argument("<manufacturer>", "name or id")
    .description("a manufacturer and its CA certificates")
    .action(async (name: string, _o, command: Command) => {
      const m = await execute(command, io, "manufacturer.show", { manufacturer: name });
      print(io, globals(command).json, m, () => manufacturerText(m));
    });
  manufacturer
    .command("list")
    .description("manufacturers, by name")
    .option("--limit <n>", "page size (1–500)", "50")
    .option("--after <name>", "continue after this name")
    .action(async (o: { limit: string; after?: string }, command: Command) => {
      const page = await execute(command, io, "manufacturer.list", {
        limit: limitOption(o.limit),
        after: o.after,
      });
      print(io, globals(command).json, page, () => page.items.map(manufacturerText).join("\n"));
    });
  return manufacturer;
}
