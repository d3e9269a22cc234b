import type { Command } from "commander";
import { KeyfleetCommand } from "../program.js";
import { KeyfleetError } from "../../domain/index.js";
import { commandConfig, execute, globals } from "../execute.js";
import { print, type CliIo } from "../io.js";

export function kekCommand(io: CliIo): Command {
  const kek = new KeyfleetCommand("kek").description("the key-encryption key of the software key store");
  kek
    .command("seal")
    .description(
      "leave the development KEK file: re-seal every key under KEYFLEET_PASSPHRASE in one transaction, then remove the file",
    )
    .action(async (_o, command: Command) => {
      const passphrase = commandConfig(command, io).passphrase;
      if (!passphrase) {
        throw new KeyfleetError(
          "invalid-configuration",
          "set KEYFLEET_PASSPHRASE to the passphrase the keys are to be sealed under",
        );
      }
      const sealed = await execute(command, io, "kek.seal", { passphrase });
      print(
        io,
        globals(command).json,
        sealed,
        () =>
          `re-sealed ${sealed.rewrapped} key${sealed.rewrapped === 1 ? "" : "s"} under KEYFLEET_PASSPHRASE; the development KEK file is removed (keep the passphrase: every start needs it now)`,
      );
    });
  return kek;
}
