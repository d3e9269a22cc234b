import type { Command } from "commander";
import { KeyfleetCommand } from "../program.js";
import { execute, globals } from "../execute.js";
import { print, type CliIo } from "../io.js";
import { integerOption } from "../parse.js";
import { maxCrlShards } from "../../pki/crl-shard.js";

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
  ca.command("crl-shards")
    .description(
      `spread the certificates an issuing CA issues from now on over COUNT CRLs (1–${maxCrlShards}; it only grows): each certificate names its shard's CRL, and each shard's CRLs are published at once`,
    )
    .argument("<ca>", "the issuing CA's id (keyfleet ca list)")
    .argument("<count>", "how many CRL shards")
    .action(async (caId: string, count: string, _options, command: Command) => {
      const shards = integerOption("<count>", count, 1, maxCrlShards);
      const result = await execute(command, io, "ca.crl-shards", { ca: caId, shards });
      print(io, globals(command).json, result, () =>
        result.old === result.shards
          ? `CA ${caId} already has ${result.shards} CRL shards`
          : `CA ${caId}: ${result.old} → ${result.shards} CRL shards; published ${result.published.length} CRLs`,
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
