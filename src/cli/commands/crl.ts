import { basename, join } from "node:path";
import type { Command } from "commander";
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
    .option("--out <dir>", "also write them here")
    .action(async (o: { ca?: string; out?: string }, command: Command) => {
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
  return crl;
}
