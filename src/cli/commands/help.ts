import type { Command } from "commander";
import { KeyfleetCommand } from "../program.js";

/** `keyfleet help cert issue`: the help of any command, however deep (commander's own goes one level). */
export function helpCommand(root: Command): Command {
  return new KeyfleetCommand("help")
    .description("show the help of a command: keyfleet help cert issue")
    .argument("[command...]", "the command")
    .action((path: string[]) => {
      let target = root;
      for (const name of path) {
        const next = target.commands.find((c) => c.name() === name || c.aliases().includes(name));
        if (!next)
          return target.error(`unknown command '${path.join(" ")}'`, { code: "commander.unknownCommand" });
        target = next;
      }
      target.outputHelp();
    });
}
