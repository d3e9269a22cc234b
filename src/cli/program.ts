/**
 * The command tree, with commander bent to the one error format: every refusal is one line
 * `keyfleet: <what> (<code>)`, help goes to stdout, and a mistyped flag is named as unknown (with
 * the nearest real one) rather than reported as a missing required flag.
 */
import { Command, type Option } from "commander";
import type { CliIo } from "./io.js";

interface CommanderInternals {
  unknownOption(flag: string): never;
}

/** A Command whose subcommands are KeyfleetCommands too, sharing the root's help and output settings. */
export class KeyfleetCommand extends Command {
  override createCommand(name?: string): KeyfleetCommand {
    return new KeyfleetCommand(name);
  }

  /**
   * Commander checks required flags before unknown ones, so `--cssr f` said "required option --csr
   * not specified". A flag it did not know is the better answer: it is what the user typed wrong.
   */
  missingMandatoryOptionValue(option: Option): never {
    const typed = this.args.find((a) => /^-[^\d]/.test(a));
    if (typed) (this as unknown as CommanderInternals).unknownOption(typed.split("=")[0]!);
    return this.error(`required option '${option.flags}' not specified`, {
      code: "commander.missingMandatoryOptionValue",
    });
  }
}

/** Settings every command gets: output through `io`, errors thrown (main prints them), global options in help. */
export function configure(command: Command, io: CliIo): Command {
  command
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.trimEnd()),
      writeErr: (s) => io.out(s.trimEnd()), // commander writes only help here: help is output, not an error
      outputError: () => undefined, // main prints the one line
    })
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showSuggestionAfterError(true)
    .helpCommand(false);
  for (const sub of command.commands) configure(sub, io);
  return command;
}
