import { Command } from "commander";
import { globals, print, withApp, type Output } from "../context.js";

export function caCommand(output: Output): Command {
  const ca = new Command("ca").description("the CA hierarchy");
  ca.command("list")
    .description("every CA with its role, algorithm and validity")
    .action(async (_options, command: Command) => {
      await withApp(command, {}, async (app) => {
        const cas = await app.authority.cas();
        print(output, globals(command).json, cas, () =>
          cas
            .map(
              (c) =>
                `${c.id}  ${c.kind.padEnd(12)} ${c.algorithm.padEnd(8)} ${c.state.padEnd(7)} until ${c.notAfter.toISOString()}  ${c.subject}`,
            )
            .join("\n"),
        );
      });
    });
  ca.command("chain")
    .description("PEM chain of the current issuing CA: issuing CA first, root last")
    .action(async (_options, command: Command) => {
      await withApp(command, {}, async (app) => {
        const chain = await app.authority.chain();
        print(output, globals(command).json, { pem: chain.pem }, () => chain.pem.trimEnd());
      });
    });
  return ca;
}
