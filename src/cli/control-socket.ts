/**
 * The control socket: on the embedded default, PGlite belongs to one process, so while `keyfleet
 * serve` holds it, a CLI command runs through the server instead of around it. The socket is
 * `DATA/control.sock`, mode 0600, in a data directory only its owner can write: it grants exactly
 * what the data directory's files already grant. One request per connection, one JSON line each way.
 */
import { join } from "node:path";

export const controlSocketName = "control.sock";
/** A request or an answer larger than this is refused (a CSR or an IDevID is a few KiB). */
export const maxMessageBytes = 4 * 1024 * 1024;
/** sockaddr_un holds 108 bytes with the terminating NUL (Linux unix(7)). */
export const maxSocketPathBytes = 107;

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

/** Calls `onLine` with each newline-terminated line; refuses more than `maxMessageBytes` without one. */
export function lineReader(onLine: (line: string) => void, onTooLong: () => void): (chunk: Buffer) => void {
  let pending = "";
  return (chunk) => {
    pending += chunk.toString("utf8");
    let end: number;
    while ((end = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, end);
      pending = pending.slice(end + 1);
      onLine(line);
    }
    if (pending.length > maxMessageBytes) onTooLong();
  };
}
