/**
 * `keyfleet crl publish`: CRLs signed now, served and written where relying parties read them
 * (with `--all-issuers`, also the one PEM bundle a broker's `crlfile` names); `keyfleet crl
 * bundle`: that bundle from the CRLs already published, signing nothing.
 */
import { basename, join, resolve } from "node:path";
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
      "sign a full CRL and its delta of every CA now (or of one), each with its next CRL number, served at once and written as <ca>.crl and <ca>-delta.crl (DER) into the data directory's crl/, replacing the files atomically",
    )
    .option("--ca <id>", "only this CA")
    .option("--out <path>", "also write them here (a directory; with --all-issuers, the bundle file)")
    .option(
      "--all-issuers",
      "also write the newest full CRL of every valid CA, root included, as one PEM file: --out names it (Mosquitto's crlfile)",
    )
    .action(async (o: { ca?: string; out?: string; allIssuers?: boolean }, command: Command) => {
      if (o.allIssuers) {
        const file = bundleFile(o);
        printBundle(io, command, await execute(command, io, "crl.bundle", { file, publish: true }));
        return;
      }
      const dataDir = commandConfig(command, io).dataDir;
      const crls = await execute(command, io, "crl.publish", { ca: o.ca });
      const { mkdir } = await import("node:fs/promises");
      const { replaceFile } = await import("../../data-directory.js");
      if (o.out !== undefined) await mkdir(o.out, { recursive: true, mode: 0o755 });
      const written: {
        issuerId: string;
        kind: string;
        number: string;
        entries: number;
        nextUpdate: string;
        file: string;
      }[] = [];
      for (const c of crls) {
        let file = join(dataDir, c.name);
        if (o.out !== undefined) {
          file = join(o.out, basename(c.name));
          await replaceFile(file, Buffer.from(c.der, "base64"), 0o644); // public: relying parties fetch it
        }
        const { issuerId, kind, number, entries, nextUpdate } = c;
        written.push({ issuerId, kind, number, entries, nextUpdate, file });
      }
      print(io, globals(command).json, written, () =>
        written
          .map(
            (c) =>
              `${c.file}  ${c.kind.padEnd(5)} number ${c.number}  ${c.entries} entries  next update ${c.nextUpdate}`,
          )
          .join("\n"),
      );
    });
  crl
    .command("bundle")
    .description(
      "write the newest published full CRL of every valid CA, root included, as one PEM file (a broker's crlfile), replacing it atomically once it reads back whole; signs nothing and announces nothing, so a consumer of crl.published may run it",
    )
    .requiredOption("--out <file>", "the bundle file")
    .action(async (o: { out: string }, command: Command) =>
      printBundle(
        io,
        command,
        await execute(command, io, "crl.bundle", { file: resolve(o.out), publish: false }),
      ),
    );
  return crl;
}

/** The bundle's path, absolute (a command that goes through the server writes where it was started). */
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
  return resolve(o.out);
}

function printBundle(
  io: CliIo,
  command: Command,
  crls: { file: string; issuerId: string; number: string; entries: number; nextUpdate: string }[],
): void {
  print(io, globals(command).json, crls, () =>
    crls
      .map(
        (c) =>
          `${c.file}  ${c.issuerId}  number ${c.number}  ${c.entries} entries  next update ${c.nextUpdate}`,
      )
      .join("\n"),
  );
}
