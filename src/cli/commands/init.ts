import type { Command } from "commander";
import { KeyfleetCommand } from "../program.js";
import { keyAlgorithmFor, keyAlgorithmsFor } from "../../crypto/index.js";
import { commandConfig, execute, globals } from "../execute.js";
import { print, type CliIo } from "../io.js";

export function initCommand(io: CliIo): Command {
  return new KeyfleetCommand("init")
    .description(
      "create the root and issuing CAs (and the first admin token) in the data directory or database",
    )
    .option("--algorithm <alg>", keyAlgorithmsFor("ca").join(" | "), "p256")
    .option("--organization <name>", "O= of the CA names", "Keyfleet")
    .option(
      "--public-url <url>",
      "base of the CRL, OCSP and caIssuers URLs in certificates (KEYFLEET_PUBLIC_URL)",
    )
    .action(
      async (options: { algorithm: string; organization: string; publicUrl?: string }, command: Command) => {
        const run = await execute(command, io, "init", {
          algorithm: keyAlgorithmFor(options.algorithm, "ca").id, // refused before anything is made
          organization: options.organization,
          publicUrl: commandConfig(command, io, { publicUrl: options.publicUrl }).publicUrl,
        });
        print(io, globals(command).json, run, () =>
          [
            ...run.cas.map(
              (ca) =>
                `${ca.kind === "root" ? "root CA   " : "issuing CA"} ${ca.id}  ${ca.algorithm}  ${ca.subject}`,
            ),
            run.adminTokenFile ? `first admin token written to ${run.adminTokenFile} (mode 0600)` : "",
          ]
            .filter(Boolean)
            .join("\n"),
        );
      },
    );
}
