import type { Command } from "commander";
import { KeyfleetCommand } from "../program.js";
import { execute, globals } from "../execute.js";
import { print, type CliIo } from "../io.js";

export function configCommand(io: CliIo): Command {
  const config = new KeyfleetCommand("config").description(
    "the authority's settings (kept in the database, the same for every process)",
  );
  config
    .command("show")
    .description(
      "the public URL certificates carry, the database, the key stores, and the running server's addresses",
    )
    .action(async (_o, command: Command) => {
      const shown = await execute(command, io, "config.show", {});
      print(io, globals(command).json, shown, () =>
        [
          `public-url   ${shown.publicUrl}   (CRL, OCSP and caIssuers URLs in new certificates)`,
          `database     ${shown.database}${shown.dataDir ? ` in ${shown.dataDir}` : ""}`,
          `key stores   ${shown.keyStores.join(", ")}${shown.pkcs11 ? ` (token "${shown.pkcs11.token}", module ${shown.pkcs11.module})` : ""}`,
          ...(shown.server
            ? [`admin API    ${shown.server.adminUrl}`, `public HTTP  ${shown.server.publicHttpUrl}`]
            : ["server       not running here"]),
        ].join("\n"),
      );
    });
  config
    .command("set")
    .argument("<name>", "public-url")
    .argument("<value>")
    .description("change a setting for every process; the change is recorded with who made it")
    .action(async (name: string, value: string, _o, command: Command) => {
      const set = await execute(command, io, "config.set", { name, value });
      print(
        io,
        globals(command).json,
        set,
        () => `${set.name} ${set.value} (was ${set.previous ?? "unset"})`,
      );
    });
  return config;
}
