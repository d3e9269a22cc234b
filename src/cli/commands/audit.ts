import { open, readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { Command } from "commander";
import { KeyfleetError } from "../../domain/index.js";
import { KeyfleetCommand } from "../program.js";
import { execute, executeSession, globals } from "../execute.js";
import { print, type CliIo } from "../io.js";
import { integerOption } from "../parse.js";

const PAGE = 1000;

interface Page {
  readonly items: readonly { index: number; leaf: string; hash: string | null }[];
  readonly next: number | null;
}
const maxIndex = 2 ** 53 - 1;

export function auditCommand(io: CliIo): Command {
  const audit = new KeyfleetCommand("audit").description(
    "the tamper-evident audit log: checkpoints, proofs, export and offline verification",
  );
  audit
    .command("head")
    .description("the latest signed checkpoint (C2SP signed note); signs one first if the log grew")
    .action(async (_options, command: Command) => {
      const head = await execute(command, io, "audit.head", {});
      print(io, globals(command).json, head, () => head.note.trimEnd());
    });
  audit
    .command("key")
    .description("the verifier key string that checks the log's checkpoints (any signed-note verifier)")
    .action(async (_options, command: Command) => {
      const { key } = await execute(command, io, "audit.key", {});
      print(io, globals(command).json, { key }, () => key);
    });
  audit
    .command("prove")
    .description("an inclusion proof of one entry against the latest checkpoint")
    .option("--index <n>", "the entry's index (0 is the first)")
    .option("--serial <hex>", "the entry that records the issuance of this certificate")
    .action(async (options: { index?: string; serial?: string }, command: Command) => {
      if ((options.index === undefined) === (options.serial === undefined)) {
        throw new KeyfleetError("malformed-request", "give one of --index and --serial");
      }
      const proof = await execute(command, io, "audit.prove", {
        index: options.index === undefined ? undefined : integerOption("--index", options.index, 0, maxIndex),
        serial: options.serial,
      });
      print(io, globals(command).json, proof, () =>
        [
          `entry ${proof.index} of ${proof.size}: ${proof.leaf}`,
          `leaf hash ${proof.leafHash}`,
          ...proof.proof.map((h, i) => `proof[${i}] ${h}`),
          "",
          proof.checkpoint.trimEnd(),
        ].join("\n"),
      );
    });
  audit
    .command("export")
    .description(
      'every checkpoint, then every entry, as JSON lines: {"checkpoint":"…"} and {"index":N,"leaf":"…"}',
    )
    .option("--from <n>", "the first entry to export", "0")
    .action(async (options: { from: string }, command: Command) => {
      let from: number | null = integerOption("--from", options.from, 0, maxIndex);
      const session = executeSession(command, io);
      try {
        // Checkpoints first: one signed while the entries are read covers only exported ones.
        for (const note of await allCheckpoints(session.run)) io.out(JSON.stringify({ checkpoint: note }));
        while (from !== null) {
          const page: Page = await session.run("audit.entries", { from, limit: PAGE });
          for (const e of page.items) io.out(JSON.stringify({ index: e.index, leaf: e.leaf }));
          from = page.items.length < PAGE ? null : page.next;
        }
      } finally {
        await session.close();
      }
    });
  audit
    .command("verify")
    .description(
      "recompute every leaf and the tree, check every checkpoint's signature and root; one-line verdict",
    )
    .option(
      "--from-export <file>",
      "verify an export (`audit export`) instead of the database; needs --key, no database",
    )
    .option("--key <key-or-file>", "the verifier key string, or a file holding it (default: the log's own)")
    .action(async (options: { fromExport?: string; key?: string }, command: Command) => {
      const { parseVerifierKey, verifyLog } = await import("../../audit/index.js");
      if (options.fromExport !== undefined && options.key === undefined) {
        throw new KeyfleetError(
          "malformed-request",
          "--from-export needs --key: the key you trust, as `keyfleet audit key` printed it",
        );
      }
      const session = options.fromExport === undefined ? executeSession(command, io) : undefined;
      try {
        await verify(options, session, parseVerifierKey, verifyLog, command);
      } finally {
        await session?.close();
      }
    });
  return audit;

  async function verify(
    options: { fromExport?: string; key?: string },
    session: Session | undefined,
    parseVerifierKey: typeof import("../../audit/index.js").parseVerifierKey,
    verifyLog: typeof import("../../audit/index.js").verifyLog,
    command: Command,
  ): Promise<void> {
    const keyText =
      options.key === undefined ? (await session!.run("audit.key", {})).key : await keyOf(options.key);
    const verifier = parseVerifierKey(keyText);
    // From the database: the checkpoints, then the head, then the entries below the head, so
    // that what a running server appends meanwhile is neither half read nor held against it.
    const notes = session ? await allCheckpoints(session.run) : [];
    const tree = session ? await session.run("audit.tree", {}) : undefined;
    const source = tree
      ? { leaves: databaseLeaves(session!.run, tree.size), notes }
      : await exportFile(options.fromExport!);
    const total = tree?.size;
    const progress = io.status
      ? (n: number) =>
          io.status!(
            `verifying: ${n.toLocaleString("en")}${total ? ` of ${total.toLocaleString("en")}` : ""} entries`,
          )
      : undefined;
    const verdict = await verifyLog(source.leaves, source.notes, verifier, progress);
    io.status?.("");
    if (!verdict.ok) {
      throw new KeyfleetError("log-inconsistent", `the audit log does not verify: ${verdict.problem}`);
    }
    if (tree) {
      // The stored head must be the tree the entries make: entries removed from the end, or a
      // frontier edited (from which proofs and the next checkpoints are built), show here.
      const recomputed = verdict.frontier.map((h) => Buffer.from(h).toString("base64"));
      if (tree.size !== verdict.entries || tree.frontier.join() !== recomputed.join()) {
        throw new KeyfleetError(
          "log-inconsistent",
          `the audit log does not verify: its head says ${tree.size} entries with another tree than the ${verdict.entries} entries stored make`,
        );
      }
    }
    print(
      io,
      globals(command).json,
      verdict,
      () =>
        `audit log verified: ${verdict.entries} entries, ${verdict.checkpoints} checkpoints signed by ${verifier.name}` +
        (verdict.uncovered ? ` (the last ${verdict.uncovered} entries are not yet in a checkpoint)` : "") +
        (options.key === undefined
          ? "; checked with the key the log's own database holds: give --key a copy kept apart to check it independently"
          : ""),
    );
  }
}

type Session = ReturnType<typeof executeSession>;
type Run = Session["run"];

async function allCheckpoints(run: Run): Promise<string[]> {
  const notes: string[] = [];
  for (let from = 0; ;) {
    const page = await run("audit.checkpoints", { from, limit: PAGE });
    notes.push(...page.items.map((c) => c.note));
    if (page.items.length < PAGE) return notes;
    from = page.items.at(-1)!.size + 1;
  }
}

/** The stored entries below `until` (the head's size when verification began), in pages. */
async function* databaseLeaves(run: Run, until: number) {
  for (let from: number | null = 0; from !== null && from < until;) {
    const limit = Math.min(PAGE, until - from);
    const page: Page = await run("audit.entries", { from, limit });
    for (const e of page.items) {
      yield {
        index: e.index,
        text: e.leaf,
        ...(e.hash ? { storedHash: Buffer.from(e.hash, "base64") } : {}),
      };
    }
    from = page.items.length < limit ? null : page.next;
  }
}

async function keyOf(keyOrFile: string): Promise<string> {
  if (/^[^\s+]+\+[0-9a-f]{8}\+/.test(keyOrFile)) return keyOrFile;
  try {
    return (await readFile(keyOrFile, "utf8")).trim();
  } catch (cause) {
    throw new KeyfleetError(
      "not-found",
      `--key is neither a verifier key nor a readable file: ${keyOrFile}`,
      { cause },
    );
  }
}

/**
 * An export's checkpoints (its first lines) and its entries, read a line at a time so that an
 * export of any size verifies in bounded memory; a line that is neither is refused with its number.
 */
async function exportFile(path: string) {
  let lines: AsyncIterator<string>;
  try {
    const handle = await open(path);
    lines = createInterface({ input: handle.createReadStream(), crlfDelay: Infinity })[
      Symbol.asyncIterator
    ]();
  } catch (cause) {
    throw new KeyfleetError("not-found", `no export file ${path}`, { cause });
  }
  let number = 0;
  const parse = (line: string): { index?: unknown; leaf?: unknown; checkpoint?: unknown } => {
    try {
      return JSON.parse(line) as { index?: unknown; leaf?: unknown; checkpoint?: unknown };
    } catch {
      throw new KeyfleetError("malformed-request", `${path} line ${number} is not JSON`);
    }
  };
  const leafOf = (v: ReturnType<typeof parse>) => {
    if (Number.isSafeInteger(v.index) && typeof v.leaf === "string")
      return { index: v.index as number, text: v.leaf };
    throw new KeyfleetError(
      "malformed-request",
      typeof v.checkpoint === "string"
        ? `${path} line ${number}: checkpoints come before the entries, as \`audit export\` writes them`
        : `${path} line ${number} is neither an entry nor a checkpoint`,
    );
  };
  const notes: string[] = [];
  let first: { index: number; text: string } | undefined;
  for (let r = await lines.next(); !r.done; r = await lines.next()) {
    number++;
    if (r.value.trim() === "") continue;
    const v = parse(r.value);
    if (typeof v.checkpoint === "string") notes.push(v.checkpoint);
    else {
      first = leafOf(v);
      break;
    }
  }
  return {
    notes,
    leaves: (async function* () {
      if (!first) return;
      yield first;
      for (let r = await lines.next(); !r.done; r = await lines.next()) {
        number++;
        if (r.value.trim() !== "") yield leafOf(parse(r.value));
      }
    })(),
  };
}
