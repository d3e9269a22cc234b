import type { Command } from "commander";
import { KeyfleetCommand } from "../program.js";
import { execute, globals } from "../execute.js";
import { print, type CliIo } from "../io.js";

export function caCommand(io: CliIo): Command {
  const ca = new KeyfleetCommand("ca").description("the CA hierarchy");
  ca.command("list")
    .description("every CA with its role, algorithm, validity and URLs")
    .action(async (_options, command: Command) => {
      const cas = await execute(command, io, "ca.list", {});
      print(io, globals(command).json, cas, () =>
        cas
          .map(
            (c) =>
              `${c.id}  ${c.kind.padEnd(12)} ${c.algorithm.padEnd(8)} ${c.state.padEnd(7)} until ${c.notAfter}  ${c.subject}`,
          )
          .join("\n"),
      );
    });
  ca.command("chain")
    .description("PEM chain of the current issuing CA: issuing CA first, root last")
    .action(async (_options, command: Command) => {
      const chain = await execute(command, io, "ca.chain", {});
      print(io, globals(command).json, chain, () => chain.pem.trimEnd());
    });
  return ca;
}
