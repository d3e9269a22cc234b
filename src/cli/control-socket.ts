/**
 * The control socket: on the embedded default, PGlite belongs to one process, so while `keyfleet
 * serve` holds it, a CLI command runs through the server instead of around it. The socket is
 * `DATA/control.sock`, mode 0600, in a data directory only its owner can write: it grants exactly
 * what the data directory's files already grant. One request per connection, one JSON line each way.
 */
import { join } from "node:path";
import type { Socket } from "node:net";

export const controlSocketName = "control.sock";
/** A request or an answer larger than this is refused (a CSR or an IDevID is a few KiB). */
export const maxMessageBytes = 4 * 1024 * 1024;
/** sockaddr_un holds 108 bytes with the terminating NUL (Linux unix(7)). */
export const maxSocketPathBytes = 107;
/** A client that has not sent its whole request by then is dropped (it holds a descriptor, and shutdown waits). */
export const requestTimeoutMs = 30_000;

export function controlSocketPath(dataDir: string): string {
  return join(dataDir, controlSocketName);
}

export interface ControlRequest {
  readonly v: 1;
  readonly operation: string;
  readonly input: unknown;
}

export type ControlAnswer =
  | { readonly ok: true; readonly output: unknown }
  | { readonly ok: false; readonly code: string; readonly message: string };

/**
 * Calls `onLine` with the first newline-terminated line (decoded as UTF-8 across chunk boundaries),
 * or `onBad` once if more than `maxMessageBytes` arrive without one or the peer ends before it.
 */
export function readOneLine(
  socket: Socket,
  onLine: (line: string) => void,
  onBad: (why: string) => void,
): void {
  socket.setEncoding("utf8");
  let pending = "";
  let done = false;
  const finish = (f: () => void) => {
    if (done) return;
    done = true;
    f();
  };
  socket.on("data", (chunk: string) => {
    if (done) return;
    pending += chunk;
    const end = pending.indexOf("\n");
    if (end >= 0) finish(() => onLine(pending.slice(0, end)));
    else if (Buffer.byteLength(pending) > maxMessageBytes) finish(() => onBad("too large"));
  });
  socket.once("end", () => finish(() => onBad("ended before a whole line")));
}
