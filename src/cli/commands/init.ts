import type { Command } from "commander";
import { KeyfleetCommand } from "../program.js";
import { keyAlgorithmFor, keyAlgorithmsFor, keyStoreNotConfigured } from "../../crypto/index.js";
import { hsmInit } from "../operations/init.js";
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
    .option(
      "--hsm",
      "generate the CA keys in the PKCS#11 token (KEYFLEET_PKCS11_MODULE, KEYFLEET_PKCS11_TOKEN, KEYFLEET_PKCS11_PIN or _PIN_FILE)",
    )
    .action(
      async (
        options: { algorithm: string; organization: string; publicUrl?: string; hsm?: boolean },
        command: Command,
      ) => {
        const config = commandConfig(command, io, { publicUrl: options.publicUrl });
        // Refused before anything is made (the operation checks again, against the stores it has).
        if (options.hsm && !config.pkcs11) throw keyStoreNotConfigured("pkcs11", hsmInit);
        const run = await execute(command, io, "init", {
          algorithm: keyAlgorithmFor(options.algorithm, "ca").id, // refused before anything is made
          organization: options.organization,
          publicUrl: config.publicUrl,
          hsm: options.hsm === true,
        });
        const where = run.token === null ? "" : `  (key in the PKCS#11 token "${run.token}")`;
        print(io, globals(command).json, run, () =>
          [
            ...run.cas.map(
              (ca) =>
                `${ca.kind === "root" ? "root CA   " : "issuing CA"} ${ca.id}  ${ca.algorithm}  ${ca.subject}${where}`,
            ),
            run.adminTokenFile ? `first admin token written to ${run.adminTokenFile} (mode 0600)` : "",
          ]
            .filter(Boolean)
            .join("\n"),
        );
      },
    );
}
