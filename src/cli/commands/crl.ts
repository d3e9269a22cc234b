import { join } from "node:path";
import type { Command } from "commander";
import { KeyfleetCommand } from "../program.js";
import { commandConfig, execute, globals } from "../execute.js";
import { print, type CliIo } from "../io.js";

export function crlCommand(io: CliIo): Command {
  const crl = new KeyfleetCommand("crl").description("certificate revocation lists");
  crl
    .command("publish")
    .description(
      "sign a full CRL of every active CA now (or of one), each with its next CRL number, and write it as <ca>.crl (DER), replacing the file atomically",
    )
    .option("--ca <id>", "only this CA")
    .option("--out <dir>", "where the files go (default: crl/ in the data directory)")
    .action(async (o: { ca?: string; out?: string }, command: Command) => {
      const out = o.out ?? join(commandConfig(command, io).dataDir, "crl");
      const crls = await execute(command, io, "crl.publish", { ca: o.ca });
      const { mkdir } = await import("node:fs/promises");
      const { replaceFile } = await import("../../data-directory.js");
      await mkdir(out, { recursive: true, mode: 0o755 });
      const written: {
        issuerId: string;
        number: string;
        entries: number;
        nextUpdate: string;
        file: string;
      }[] = [];
      for (const c of crls) {
        const file = join(out, `${c.issuerId}.crl`);
        await replaceFile(file, Buffer.from(c.der, "base64"), 0o644); // public: relying parties fetch it
        written.push({
          issuerId: c.issuerId,
          number: c.number,
          entries: c.entries,
          nextUpdate: c.nextUpdate,
          file,
        });
      }
      print(io, globals(command).json, written, () =>
        written
          .map((c) => `${c.file}  number ${c.number}  ${c.entries} entries  next update ${c.nextUpdate}`)
          .join("\n"),
      );
    });
  return crl;
}
