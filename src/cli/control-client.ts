/**
 * The CLI's side of the control socket: if a server holds this data directory, send it the
 * operation and return its answer (a refusal comes back as the same KeyfleetError a local run would
 * throw); if none does, say so and the CLI opens the database itself.
 */
import { lstat, stat } from "node:fs/promises";
import { connect } from "node:net";
import { KeyfleetError, type ErrorCode } from "../domain/index.js";
import { controlSocketPath, lineReader, type ControlAnswer, type ControlRequest } from "./control-socket.js";

/** `undefined`: no server listens here. */
export async function forwardToServer(
  dataDir: string,
  operation: string,
  input: unknown,
): Promise<{ output: unknown } | undefined> {
  const path = controlSocketPath(dataDir);
  const socketStat = await lstat(path).catch(() => undefined);
  if (!socketStat) return undefined;
  await checkTrust(dataDir, path, socketStat);
  const request: ControlRequest = { v: 1, operation, input };
  return new Promise((resolve, reject) => {
    let answered = false;
    const socket = connect(path);
    socket.once("connect", () => socket.write(JSON.stringify(request) + "\n"));
    socket.on(
      "data",
      lineReader(
        (line) => {
          answered = true;
          socket.destroy();
          const answer = parseAnswer(line);
          if (answer.ok) resolve({ output: answer.output });
          else reject(new KeyfleetError(answer.code as ErrorCode, answer.message));
        },
        () => {
          socket.destroy();
          reject(new KeyfleetError("unavailable", "the server's answer on the control socket is too large"));
        },
      ),
    );
    socket.once("error", (e: NodeJS.ErrnoException) => {
      // A socket left by a server that is gone: nobody answers, so this command opens the database itself.
      if (e.code === "ECONNREFUSED" || e.code === "ENOENT") resolve(undefined);
      else reject(new KeyfleetError("unavailable", `cannot reach the server on ${path}: ${e.message}`));
    });
    socket.once("close", () => {
      if (!answered)
        reject(
          new KeyfleetError(
            "unavailable",
            `the server on ${path} closed the connection without answering; retry`,
          ),
        );
    });
  });
}

function parseAnswer(line: string): ControlAnswer {
  try {
    const answer = JSON.parse(line) as ControlAnswer;
    if (typeof answer === "object" && answer !== null && typeof answer.ok === "boolean") return answer;
  } catch {
    // fall through
  }
  return {
    ok: false,
    code: "unavailable",
    message: "the server's answer on the control socket is not valid",
  };
}

/**
 * A socket we would send a passphrase or a CSR to must be the data directory owner's own, in a
 * directory nobody else can write: otherwise someone else could have put it there to listen.
 */
async function checkTrust(
  dataDir: string,
  path: string,
  socketStat: Awaited<ReturnType<typeof lstat>>,
): Promise<void> {
  const dirStat = await stat(dataDir);
  const refuse = (why: string) => {
    throw new KeyfleetError("invalid-configuration", `refusing the control socket ${path}: ${why}`);
  };
  if (!socketStat.isSocket()) refuse("it is not a socket");
  if ((Number(dirStat.mode) & 0o022) !== 0) {
    refuse(`${dataDir} is writable by others (mode ${octal(dirStat.mode)}); run \`chmod go-w ${dataDir}\``);
  }
  if (socketStat.uid !== dirStat.uid) {
    refuse(`it belongs to uid ${socketStat.uid}, not to the data directory's owner (uid ${dirStat.uid})`);
  }
  if ((Number(socketStat.mode) & 0o077) !== 0) refuse(`its mode is ${octal(socketStat.mode)}, not 0600`);
}

function octal(mode: number | bigint): string {
  return "0" + (Number(mode) & 0o777).toString(8);
}
