/**
 * The outbox consumer behind `keyfleet events exec`: read the feed after the cursor, run the
 * operator's command once per event of the types followed, save the cursor after each success.
 * The command is run without a shell and learns the event from its environment and stdin, so no
 * event data is ever parsed as a command line. On the embedded database the feed is read through
 * the running server (PGlite serves one process, and a consumer runs for days); when that server
 * or PostgreSQL is away, the consumer says so once and waits.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { replaceFile } from "../data-directory.js";
import { KeyfleetError, isKeyfleetError, quoted } from "../domain/index.js";
import { forwardToServer } from "./control-client.js";
import type { CliIo } from "./io.js";
import type { FollowedEvent } from "./operations/events.js";
import type { InputOf, OperationName, OutputOf } from "./operations/index.js";

/** Where operations run: the PostgreSQL session the command opened, or the server on the data directory. */
export interface EventSource {
  run<N extends OperationName>(name: N, input: InputOf<N>): Promise<OutputOf<N>>;
  close(): Promise<void>;
}

export interface FollowOptions {
  readonly types: readonly string[];
  readonly cursorFile: string;
  /** With no cursor file yet: only events from now on, or every one since the first. */
  readonly from: "now" | "start";
  readonly intervalMs: number;
  /** Handle what is there, then return (and fail rather than wait when the feed is away). */
  readonly once: boolean;
  /** argv: the program, then its arguments. */
  readonly command: readonly string[];
}

export function serverSource(dataDir: string): EventSource {
  return {
    async run(name, input) {
      const forwarded = await forwardToServer(dataDir, name, input);
      if (!forwarded) {
        throw new KeyfleetError(
          "unavailable",
          `no \`keyfleet serve\` holds ${dataDir}: on the embedded database, events are followed through the running server`,
        );
      }
      return forwarded.output as OutputOf<typeof name>;
    },
    close: async () => undefined,
  };
}

export async function followEvents(io: CliIo, source: EventSource, o: FollowOptions): Promise<void> {
  const run = untilStopped(o.intervalMs);
  const ask = retrying(io, o, run.pause);
  try {
    const saved = await readCursor(o.cursorFile);
    let cursor = saved ?? (o.from === "start" ? -1 : undefined);
    // Kept once the feed took the types and before any command runs: a restart starts here, not at a later "now".
    let unsaved = saved === undefined;
    while (!run.stopped()) {
      if (cursor === undefined) {
        cursor = (await ask(() => source.run("events.end", {})))?.cursor;
        continue;
      }
      const after = cursor;
      const page = await ask(() => source.run("events.after", { after, types: o.types }));
      if (!page) continue;
      if (unsaved) await saveCursor(o.cursorFile, cursor);
      unsaved = false;
      for (const event of page.items) {
        await runCommand(io, o.command, event);
        await saveCursor(o.cursorFile, (cursor = event.position));
        if (run.stopped()) return;
      }
      if (page.cursor !== cursor) await saveCursor(o.cursorFile, (cursor = page.cursor));
      if (page.end) {
        if (o.once) return;
        await run.pause();
      }
    }
  } finally {
    run.dispose();
  }
}

/** SIGTERM and SIGINT stop the loop between commands, waking it from a pause rather than waiting the pause out. */
function untilStopped(intervalMs: number) {
  let stopping = false;
  let wake: () => void = () => undefined;
  const stop = () => {
    stopping = true;
    wake();
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  return {
    stopped: () => stopping,
    pause: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        wake = () => (clearTimeout(timer), resolve());
      }),
    dispose: () => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
    },
  };
}

/**
 * A call to the feed whose answer is undefined, after a pause, while the feed is away (the server,
 * PostgreSQL): said once per outage. With --once, or any other error, it throws.
 */
function retrying(io: CliIo, o: FollowOptions, pause: () => Promise<void>) {
  let away = false;
  return async <T>(call: () => Promise<T>): Promise<T | undefined> => {
    try {
      const answer = await call();
      away = false;
      return answer;
    } catch (e) {
      const transient = isKeyfleetError(e) && ["unavailable", "store-unavailable"].includes(e.code);
      if (o.once || !transient) throw e;
      if (!away) io.err(`keyfleet: warning: ${e.message}; retrying every ${o.intervalMs / 1000} s`);
      away = true;
      await pause();
      return undefined;
    }
  };
}

async function readCursor(file: string): Promise<number | undefined> {
  const text = await readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return undefined;
    throw new KeyfleetError("invalid-configuration", `cannot read the cursor file ${file}: ${e.message}`);
  });
  if (text === undefined) return undefined;
  const cursor = /^(-1|[0-9]{1,15})\n$/.test(text) ? Number(text) : NaN;
  if (Number.isNaN(cursor)) {
    throw new KeyfleetError(
      "malformed-request",
      `${file} does not hold a cursor written by keyfleet events exec (remove it to start again)`,
    );
  }
  return cursor;
}

async function saveCursor(file: string, cursor: number): Promise<void> {
  await replaceFile(file, `${cursor}\n`, 0o644).catch((e: Error) => {
    throw new KeyfleetError("invalid-configuration", `cannot write the cursor file ${file}: ${e.message}`);
  });
}

/** Runs the command for one event; resolves when it exited with status 0. */
function runCommand(io: CliIo, argv: readonly string[], event: FollowedEvent): Promise<void> {
  const [program, ...args] = argv as [string, ...string[]];
  const what = `event ${event.position} (${event.type} ${event.id})`;
  const child = spawn(program, args, {
    stdio: ["pipe", "pipe", "pipe"],
    env: {
      ...io.env,
      KEYFLEET_EVENT_TYPE: event.type,
      KEYFLEET_EVENT_ID: event.id,
      KEYFLEET_EVENT_POSITION: String(event.position),
      KEYFLEET_EVENT_SUBJECT: event.subject,
      KEYFLEET_EVENT_PAYLOAD: JSON.stringify(event.payload),
    },
  });
  child.stdin.on("error", () => undefined); // a command that never reads its stdin closes it early
  child.stdin.end(JSON.stringify(event) + "\n");
  createInterface({ input: child.stdout }).on("line", (line) => io.out(line));
  createInterface({ input: child.stderr }).on("line", (line) => io.err(line));
  return new Promise((resolve, reject) => {
    child.once("error", (e) =>
      reject(new KeyfleetError("not-found", `cannot run ${quoted(program)} for ${what}: ${e.message}`)),
    );
    child.once("close", (code, signal) => {
      if (code === 0) return resolve();
      const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
      reject(
        new KeyfleetError(
          "unavailable",
          `${quoted(program)} ${how} on ${what}; the cursor stays before it, so the next start runs it again`,
        ),
      );
    });
  });
}
