/**
 * Publishing CRLs on demand (`keyfleet crl publish`), and the one PEM bundle of every CA's newest
 * full CRL that a broker's `crlfile` names (`--all-issuers`, `keyfleet crl bundle`), written by the
 * process that runs the operation (the CLI's own app, or the server a command went through).
 */
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { crlBundle, crlPath, readCrlBundle } from "../../ca/index.js";
import { replaceFile } from "../../data-directory.js";
import { KeyfleetError } from "../../domain/index.js";
import { operation } from "./operation.js";

export const crlOperations = {
  /**
   * A full CRL and its delta of every CA still valid (or of one), each signed now with its next
   * CRL Number, published as the server publishes them: served, and written into the data directory.
   */
  "crl.publish": operation({
    run: async (app, input: { ca?: string | undefined }, context) =>
      (await app.crls.publishNow(context.actor, input.ca)).map((crl) => ({
        issuerId: crl.issuerId,
        shard: crl.shard,
        kind: crl.kind,
        number: crl.number.toString(),
        entries: crl.entries,
        thisUpdate: crl.thisUpdate.toISOString(),
        nextUpdate: crl.nextUpdate.toISOString(),
        /** Its file's name, under the data directory (and under --out). */
        name: crlPath(crl, crl.kind),
        der: Buffer.from(crl.der).toString("base64"),
      })),
  }),

  /**
   * The newest full CRL of every CA still valid (root and issuing CAs, retired or not: their
   * certificates may still be in use) as one PEM bundle, checked as read back, then renamed over
   * `file`. With `publish`, every CA's CRLs are published now first (as `crl.publish`); without,
   * nothing is signed and no event is written, so a consumer of `crl.published` may run it.
   */
  "crl.bundle": operation({
    run: async (app, input: { file: string; publish: boolean }, context) => {
      await checkWritable(input.file);
      if (input.publish) await app.crls.publishNow(context.actor);
      const crls = await app.crls.newestFull();
      const ders = crls.map((c) => c.der);
      await replaceFile(input.file, crlBundle(ders), 0o644, (bytes) => readCrlBundle(bytes.toString(), ders));
      return crls.map(({ row }) => ({
        issuerId: row.issuer_id,
        shard: row.shard,
        number: String(row.number),
        entries: row.entries,
        thisUpdate: row.this_update.toISOString(),
        nextUpdate: row.next_update.toISOString(),
        file: input.file,
      }));
    },
  }),
};

/** Refuses, before any CRL is signed, a bundle path that cannot be written (nothing changes then). */
async function checkWritable(file: string): Promise<void> {
  const refuse = (code: "not-found" | "invalid-configuration", why: string) =>
    new KeyfleetError(code, `cannot write the CRL bundle to ${file}: ${why}`);
  const dir = dirname(file);
  const dirStat = await stat(dir).catch(() => undefined);
  if (!dirStat) throw refuse("not-found", `there is no directory ${dir}`);
  if (!dirStat.isDirectory()) throw refuse("invalid-configuration", `${dir} is not a directory`);
  if ((await stat(file).catch(() => undefined))?.isDirectory()) {
    throw refuse("invalid-configuration", "it is a directory (a CRL bundle is one file)");
  }
  await access(dir, constants.W_OK).catch((e: NodeJS.ErrnoException) => {
    throw refuse("invalid-configuration", `${dir} is not writable (${e.code ?? e.message})`);
  });
}
