/**
 * The server's side of the control socket (`keyfleet serve` on the embedded default): each
 * connection brings one operation, run on the server's own open app with the same function the CLI
 * would run, and gets one answer. Refusals travel as code and message, so the CLI prints the same
 * line it would have printed running the operation itself.
 */
import { chmod, rm, stat } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import type { App } from "../app.js";
import { KeyfleetError, isKeyfleetError } from "../domain/index.js";
import {
  controlSocketPath,
  lineReader,
  maxSocketPathBytes,
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
 * Listens on DATA/control.sock; refuses to in a data directory others can write. Undefined when the
 * path is too long for a socket (the CLI then says the database is in use, as without a server).
 */
export async function listenControlSocket(
  app: App,
  context: OperationContext,
): Promise<ControlListener | undefined> {
  const dataDir = app.config.dataDir;
  const path = controlSocketPath(dataDir);
  const dirStat = await stat(dataDir);
  if ((dirStat.mode & 0o022) !== 0 || dirStat.uid !== process.getuid?.()) {
    throw new KeyfleetError(
      "invalid-configuration",
      `${dataDir} must belong to this user and be writable by nobody else (mode ${"0" + (dirStat.mode & 0o777).toString(8)}): run \`chmod 700 ${dataDir}\``,
    );
  }
  if (Buffer.byteLength(path) > maxSocketPathBytes) {
    app.logger.warn(
      { path },
      "the data directory's path is too long for a control socket; CLI commands cannot reach this server",
    );
    return undefined;
  }
  await rm(path, { force: true }); // we hold the database's lock: a socket here is a dead server's
  // Half-open: a client that ends its side after the request still gets the answer.
  const server = createServer({ allowHalfOpen: true }, (socket) => serve(app, context, socket));
  await listen(server, path);
  await chmod(path, 0o600);
  return {
    path,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(path, { force: true });
    },
  };
}

/** Binds with a umask that leaves the socket 0600 from its first moment, not after a chmod. */
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
  let taken = false;
  const answer = (a: ControlAnswer) => {
    if (!socket.destroyed) socket.end(JSON.stringify(a) + "\n");
  };
  socket.on("error", () => undefined); // a client that went away; nothing to tell it
  socket.on(
    "data",
    lineReader(
      (line) => {
        if (taken) return;
        taken = true;
        void handle(app, context, line).then(answer);
      },
      () =>
        answer({
          ok: false,
          code: "malformed-request",
          message: "the request on the control socket is too large",
        }),
    ),
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
    if (typeof request !== "object" || request === null || request.v !== 1)
      throw new KeyfleetError("malformed-request", "this server speaks version 1 of the control socket");
    app.logger.info({ operation: request.operation }, "control socket operation"); // never the input: it may hold a passphrase
    return { ok: true, output: await runOperation(app, request.operation, request.input, context) };
  } catch (e) {
    if (isKeyfleetError(e)) return { ok: false, code: e.code, message: e.message };
    app.logger.error({ err: e, operation: request?.operation }, "control socket operation failed");
    return {
      ok: false,
      code: "internal",
      message: `unexpected error: ${e instanceof Error ? e.message : String(e)}`,
    };
  }
}
