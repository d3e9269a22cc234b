import { KeyfleetError } from "../../domain/index.js";
import { serialFromHex, serialToHex } from "../../pki/index.js";
import { operation } from "./operation.js";

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

export const auditOperations = {
  /** The latest checkpoint, signed now if the log grew past the one before (on demand). */
  "audit.head": operation({
    run: async (app, _input: Record<string, never>) => {
      const c = await app.checkpoints.sign();
      return { note: c.note, size: c.size, root: b64(c.root) };
    },
  }),
  "audit.key": operation({
    run: async (app, _input: Record<string, never>) => ({ key: await app.checkpoints.verifierKey() }),
  }),
  /** An inclusion proof of one entry (by index, or the issuance of a certificate) against a checkpoint. */
  "audit.prove": operation({
    run: async (app, input: { index?: number | undefined; serial?: string | undefined }) => {
      let index = input.index;
      if (input.serial !== undefined) {
        index = (await app.audit.issuanceOf(serialToHex(serialFromHex(input.serial)))).index;
      }
      if (index === undefined) throw new KeyfleetError("malformed-request", "give --index or --serial");
      const checkpoint = await app.checkpoints.sign();
      const proof = await app.audit.inclusionProof(index, checkpoint.size);
      const [entry] = await app.audit.entries(index, 1);
      return {
        index,
        size: checkpoint.size,
        leaf: entry!.text,
        leafHash: b64(proof.leafHash),
        proof: proof.proof.map(b64),
        checkpoint: checkpoint.note,
      };
    },
  }),
  /** A page of entries as stored, with the leaf hash stored for each. */
  "audit.entries": operation({
    run: async (app, input: { from: number; limit: number }) => {
      const rows = await app.audit.stored(input.from, input.limit);
      return {
        items: rows.map((r) => ({ index: r.index, leaf: r.entry, hash: r.hash ? b64(r.hash) : null })),
        next: rows.length === 0 ? null : rows.at(-1)!.index + 1,
      };
    },
  }),
  /** The log's head as stored: its size and frontier, which verification recomputes. */
  "audit.tree": operation({
    run: async (app, _input: Record<string, never>) => {
      const head = await app.audit.head();
      return { size: head.size, frontier: head.frontier.map(b64) };
    },
  }),
  "audit.checkpoints": operation({
    run: async (app, input: { from: number; limit: number }) => {
      const rows = await app.checkpoints.list(input.from, input.limit);
      return { items: rows.map((c) => ({ size: c.size, note: c.note })) };
    },
  }),
};
