/**
 * Publishing CRLs on demand: each CA's full CRL as a DER file, or one PEM bundle of them all for a
 * broker's `crlfile`. Files are written by the process that signs (the CLI's own app, or the
 * server a command went through) before their `crl.published` events exist, so a consumer told
 * of a CRL (`keyfleet events exec`) finds it in place.
 */
import { constants } from "node:fs";
import { access, mkdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { App } from "../../app.js";
import { crlBundle, readCrlBundle, type ProducedCrl } from "../../ca/index.js";
import { replaceFile } from "../../data-directory.js";
import { KeyfleetError } from "../../domain/index.js";
import { operation } from "./operation.js";

/** What `crl publish` prints of each CRL it wrote. */
export interface PublishedCrl {
  readonly issuerId: string;
  readonly number: string;
  readonly entries: number;
  readonly thisUpdate: string;
  readonly nextUpdate: string;
  readonly file: string;
}

export const crlOperations = {
  /** A full CRL of every active CA (or of one), each signed now with its next CRL Number, as `<dir>/<ca>.crl`. */
  "crl.publish": operation({
    run: async (app, input: { ca?: string | undefined; dir: string }, context) => {
      const ids =
        input.ca === undefined
          ? (await app.authority.cas()).filter((c) => c.state === "active").map((c) => c.id)
          : [input.ca];
      const crls: ProducedCrl[] = [];
      for (const id of ids) crls.push(await app.authority.produceCrl(id));
      await mkdir(input.dir, { recursive: true, mode: 0o755 });
      const written = [];
      for (const crl of crls) {
        const file = join(input.dir, `${crl.issuerId}.crl`);
        await replaceFile(file, crl.der, 0o644); // public: relying parties fetch it
        written.push(publishedCrl(crl, file));
      }
      await announce(app, written, context.actor);
      return written;
    },
  }),

  /**
   * One PEM bundle of the full CRLs of every CA still valid (root and issuing CAs, retired or not:
   * their certificates may still be in use), checked as read back, then renamed over `file`.
   */
  "crl.publish-bundle": operation({
    run: async (app, input: { file: string }, context) => {
      await checkWritable(input.file);
      const now = app.clock.now().getTime();
      const cas = (await app.authority.cas()).filter((c) => c.notAfter.getTime() > now);
      if (cas.length === 0) {
        throw new KeyfleetError("not-initialized", "the authority has no valid CA: run `keyfleet init`");
      }
      const crls: ProducedCrl[] = [];
      for (const ca of cas) crls.push(await app.authority.produceCrl(ca.id));
      const ders = crls.map((c) => c.der);
      await replaceFile(input.file, crlBundle(ders), 0o644, (bytes) => readCrlBundle(bytes.toString(), ders));
      const written = crls.map((c) => publishedCrl(c, input.file));
      await announce(app, written, context.actor);
      return written;
    },
  }),
};

function publishedCrl(crl: ProducedCrl, file: string): PublishedCrl {
  return {
    issuerId: crl.issuerId,
    number: crl.number.toString(),
    entries: crl.entries,
    thisUpdate: crl.thisUpdate.toISOString(),
    nextUpdate: crl.nextUpdate.toISOString(),
    file,
  };
}

/** Refuses, before any CRL is signed, a bundle path that cannot be written (nothing changes then). */
async function checkWritable(file: string): Promise<void> {
  const refuse = (code: "not-found" | "invalid-configuration", why: string) =>
    new KeyfleetError(code, `cannot write the CRL bundle to ${file}: ${why}`);
  const dir = dirname(file);
  const dirStat = await stat(dir).catch(() => undefined);
  if (!dirStat) throw refuse("not-found", `there is no directory ${dir}`);
  if (!dirStat.isDirectory()) throw refuse("invalid-configuration", `${dir} is not a directory`);
  if ((await stat(file).catch(() => undefined))?.isDirectory()) {
    throw refuse("invalid-configuration", "it is a directory (--all-issuers writes one file)");
  }
  await access(dir, constants.W_OK).catch((e: NodeJS.ErrnoException) => {
    throw refuse("invalid-configuration", `${dir} is not writable (${e.code ?? e.message})`);
  });
}

/**
 * `crl.published` for each CRL written: an audit leaf and an outbox event, in one transaction, so
 * `keyfleet events exec --type crl.published -- …` (a broker's SIGHUP) follows every publication.
 */
async function announce(app: App, crls: readonly PublishedCrl[], actor: string): Promise<void> {
  await app.database.transaction(async (tx) => {
    const facts = crls.map((c) => ({
      issuerId: c.issuerId,
      number: c.number,
      kind: "full",
      thisUpdate: c.thisUpdate,
      nextUpdate: c.nextUpdate,
    }));
    const positions = await app.audit.append(
      tx,
      facts.map((f) => ({ type: "crl.published", actor, subject: `ca:${f.issuerId}`, details: f })),
    );
    await app.events.publish(
      tx,
      facts.map((f, i) => ({
        position: positions[i]!,
        type: "crl.published",
        subject: `ca:${f.issuerId}`,
        payload: f,
      })),
    );
  });
}
