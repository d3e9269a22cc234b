/**
 * The server's side of the control socket (`keyfleet serve` on the embedded default): each
 * connection brings one operation, run on the server's own open app with the same function the CLI
 * would run, and gets one answer. Refusals travel as code and message, so the CLI prints the same
 * line it would have printed running the operation itself.
 */
import { rm, stat } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import type { App } from "../app.js";
import { checkDataDirectory } from "../data-directory.js";
import { KeyfleetError, isKeyfleetError } from "../domain/index.js";
import {
  controlSocketPath,
  maxSocketPathBytes,
  readOneLine,
  requestTimeoutMs,
  type ControlAnswer,
  type ControlRequest,
} from "./control-socket.js";
import { runOperation } from "./local.js";
import type { OperationContext } from "./operations/index.js";

export interface ControlListener {
  readonly path: string;
  close(): Promise<void>;
}

/**
 * Listens on DATA/control.sock. Undefined when the path is too long for a socket (the CLI then says
 * the database is in use, as without a server).
 */
export async function listenControlSocket(
  app: App,
  context: OperationContext,
): Promise<ControlListener | undefined> {
  const dataDir = app.config.dataDir;
  const path = controlSocketPath(dataDir);
  // Checked at start (loading the configuration) and again here: a socket in a directory others
  // can write could have been put there, or swapped, by them.
  checkDataDirectory(dataDir);
  if (Buffer.byteLength(path) > maxSocketPathBytes) {
    app.logger.warn(
      { path },
      "the data directory's path is too long for a control socket; CLI commands cannot reach this server",
    );
    return undefined;
  }
  // We hold the database's lock: whatever is here is a dead server's (a directory is not ours to remove).
  if ((await stat(path).catch(() => undefined))?.isDirectory()) {
    throw new KeyfleetError(
      "invalid-configuration",
      `${path} is a directory; remove it so the control socket can be made`,
    );
  }
  await rm(path, { force: true });
  const sockets = new Set<Socket>();
  const withActor = { ...context, actor: `${context.actor} (control socket)` };
  // Half-open: a client that ends its side after the request still gets the answer.
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    serve(app, withActor, socket);
  });
  await listen(server, path);
  return {
    path,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy(); // shutdown waits for nobody
      await closed;
      await rm(path, { force: true });
    },
  };
}

/** Binds with a umask that makes the socket 0600 from its first moment (no window before a chmod). */
function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    const umask = process.umask(0o177);
    try {
      server.listen(path, () => resolve());
    } finally {
      process.umask(umask);
    }
  });
}

function serve(app: App, context: OperationContext, socket: Socket): void {
  const answer = (a: ControlAnswer) => {
    if (!socket.destroyed) socket.end(JSON.stringify(a) + "\n");
  };
  socket.on("error", () => undefined); // a client that went away; nothing to tell it
  socket.setTimeout(requestTimeoutMs, () => {
    socket.setTimeout(0);
    if (socket.readable)
      answer({ ok: false, code: "malformed-request", message: "no whole request in time" });
  });
  readOneLine(
    socket,
    (line) => {
      socket.setTimeout(0); // the operation itself may take long (kek seal)
      void handle(app, context, line).then(answer);
    },
    (why) =>
      answer({
        ok: false,
        code: "malformed-request",
        message: `the request on the control socket is ${why}`,
      }),
  );
}

async function handle(app: App, context: OperationContext, line: string): Promise<ControlAnswer> {
  let request: ControlRequest;
  try {
    request = JSON.parse(line) as ControlRequest;
  } catch {
    return { ok: false, code: "malformed-request", message: "the request on the control socket is not JSON" };
  }
  try {
    if (typeof request !== "object" || request === null || request.v !== 1) {
      throw new KeyfleetError("malformed-request", "this server speaks version 1 of the control socket");
    }
    app.logger.info({ operation: String(request.operation) }, "control socket operation"); // never the input: it may hold a passphrase
    return { ok: true, output: await runOperation(app, request.operation, request.input, context) };
  } catch (e) {
    if (isKeyfleetError(e)) return { ok: false, code: e.code, message: e.message };
    // The name only: an error's message can quote the input, and the input can hold a passphrase.
    app.logger.error(
      { operation: String(request?.operation), error: (e as Error)?.name },
      "control socket operation failed",
    );
    return {
      ok: false,
      code: "internal",
      message: `unexpected error: ${e instanceof Error ? e.message : String(e)}`,
    };
  }
}
