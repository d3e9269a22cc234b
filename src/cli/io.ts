/** Where a command writes and which environment it reads: the process's, or a test's. */
import { processEnvironment } from "../config.js";

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** A status line redrawn in place on a terminal (progress); absent when stderr is not one. */
  readonly status?: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text.endsWith("\n") ? text : text + "\n"),
  err: (text) => process.stderr.write(text.endsWith("\n") ? text : text + "\n"),
  env: processEnvironment(),
  ...(process.stderr.isTTY
    ? { status: (text: string) => process.stderr.write(`\r\x1b[K${text}${text ? "" : "\r"}`) }
    : {}),
};

/** `--json` prints the value; otherwise the command's text. */
export function print(io: CliIo, json: boolean | undefined, value: unknown, text: () => string): void {
  io.out(json ? JSON.stringify(value, null, 2) : text());
}
