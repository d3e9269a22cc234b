/**
 * `keyfleet crl publish`: CRLs signed now and written where relying parties read them, one DER
 * file per CA or (`--all-issuers`) the one PEM bundle a broker's `crlfile` names.
 */
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { KeyfleetError } from "../../domain/index.js";
import { KeyfleetCommand } from "../program.js";
import { commandConfig, execute, globals } from "../execute.js";
import { print, type CliIo } from "../io.js";

export function crlCommand(io: CliIo): Command {
  const crl = new KeyfleetCommand("crl").description("certificate revocation lists");
  crl
    .command("publish")
    .description(
      "sign a full CRL of every active CA now (or of one), each with its next CRL number, and write it as <ca>.crl (DER), replacing the file atomically; with --all-issuers, one PEM bundle of every valid CA's CRL in the file --out names (a broker's crlfile)",
    )
    .option("--ca <id>", "only this CA")
    .option("--all-issuers", "one PEM file of every valid CA's CRL, root included (Mosquitto's crlfile)")
    .option(
      "--out <path>",
      "where the files go (default: crl/ in the data directory); with --all-issuers, the bundle file",
    )
    .action(async (o: { ca?: string; allIssuers?: boolean; out?: string }, command: Command) => {
      // Absolute, so a command that goes through the server writes where it was started.
      const written = o.allIssuers
        ? await execute(command, io, "crl.publish-bundle", { file: resolve(bundleFile(o)) })
        : await execute(command, io, "crl.publish", {
            ca: o.ca,
            dir: resolve(o.out ?? join(commandConfig(command, io).dataDir, "crl")),
          });
      print(io, globals(command).json, written, () =>
        written
          .map(
            (c) =>
              `${c.file}${o.allIssuers ? ` ${c.issuerId}` : ""}  number ${c.number}  ${c.entries} entries  next update ${c.nextUpdate}`,
          )
          .join("\n"),
      );
    });
  return crl;
}

function bundleFile(o: { ca?: string; out?: string }): string {
  if (o.ca !== undefined) {
    throw new KeyfleetError(
      "malformed-request",
      "--all-issuers bundles every CA's CRL, so it takes no --ca: drop one of them",
    );
  }
  if (o.out === undefined) {
    throw new KeyfleetError("malformed-request", "--all-issuers writes one file: name it with --out FILE");
  }
  return o.out;
}
