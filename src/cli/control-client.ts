/**
 * The CLI's side of the control socket: if a server holds this data directory, send it the
 * operation and return its answer (a refusal comes back as the same KeyfleetError a local run would
 * throw); if none does, say so and the CLI opens the database itself.
 */
import type { Stats } from "node:fs";
import { lstat, stat } from "node:fs/promises";
import { connect } from "node:net";
import { dataDirectoryProblem, octal } from "../data-directory.js";
import { KeyfleetError, type ErrorCode } from "../domain/index.js";
import { controlSocketPath, readOneLine, type ControlAnswer, type ControlRequest } from "./control-socket.js";

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
  const answer = await ask(path, { v: 1, operation, input });
  if (answer === undefined) return undefined;
  if (!answer.ok) throw new KeyfleetError(answer.code as ErrorCode, answer.message);
  return { output: answer.output };
}

/** One request, one answer; undefined when nobody listens (a dead server's socket). */
function ask(path: string, request: ControlRequest): Promise<ControlAnswer | undefined> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const unavailable = (why: string) =>
      new KeyfleetError("unavailable", `the server on ${path} ${why}; retry`);
    socket.once("connect", () => socket.write(JSON.stringify(request) + "\n"));
    readOneLine(
      socket,
      (line) => {
        socket.destroy();
        resolve(parseAnswer(line));
      },
      (why) => {
        socket.destroy();
        reject(unavailable(`answered badly (${why})`));
      },
    );
    socket.once("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ECONNREFUSED" || e.code === "ENOENT") resolve(undefined);
      else reject(unavailable(`cannot be reached: ${e.message}`));
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

/** A socket we would send a passphrase or a CSR to must be the data directory owner's own, mode 0600. */
async function checkTrust(dataDir: string, path: string, socketStat: Stats): Promise<void> {
  const refuse = (why: string) => {
    throw new KeyfleetError("invalid-configuration", `refusing the control socket ${path}: ${why}`);
  };
  if (!socketStat.isSocket()) refuse("it is not a socket (if no server runs, remove it)");
  const dirStat = await stat(dataDir);
  const problem = dataDirectoryProblem(dataDir, dirStat, dirStat.uid);
  if (problem) refuse(problem);
  if (socketStat.uid !== dirStat.uid) {
    refuse(`it belongs to uid ${socketStat.uid}, not to the data directory's owner (uid ${dirStat.uid})`);
  }
  if ((socketStat.mode & 0o077) !== 0) refuse(`its mode is ${octal(socketStat.mode)}, not 0600`);
}
