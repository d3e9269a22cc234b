import { Command } from "commander";
import { keyAlgorithm } from "../../crypto/index.js";
import { ensureInitialized } from "../../first-run.js";
import { globals, print, withApp, type Output } from "../context.js";
import { KeyfleetError } from "../../domain/index.js";

export function initCommand(output: Output): Command {
  return new Command("init")
    .description(
      "create the root and issuing CAs (and the first admin token) in the data directory or database",
    )
    .option("--algorithm <alg>", "p256 | p384 | ed25519 | rsa3072 | rsa4096", "p256")
    .option("--organization <name>", "O= of the CA names", "Keyfleet")
    .action(async (options: { algorithm: string; organization: string }, command: Command) => {
      const algorithm = keyAlgorithm(options.algorithm).id;
      await withApp(
        command,
        {},
        async (app) => {
          if (await app.authority.initialized()) {
            throw new KeyfleetError(
              "conflict",
              "already initialized: the CAs exist (see `keyfleet ca list`)",
            );
          }
          const run = await ensureInitialized(app, { algorithm, organization: options.organization });
          print(output, globals(command).json, run, () =>
            [
              ...(run.cas ?? []).map(
                (ca) =>
                  `${ca.kind === "root" ? "root CA   " : "issuing CA"} ${ca.id}  ${ca.algorithm}  ${ca.subject}`,
              ),
              run.adminTokenFile ? `first admin token written to ${run.adminTokenFile} (mode 0600)` : "",
            ]
              .filter(Boolean)
              .join("\n"),
          );
        },
        { create: true },
      );
    });
}
