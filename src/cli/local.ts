/**
 * Running an operation on an app: the CLI's own (opened for the one command and closed after), or
 * the server's (for a command that came over the control socket). Either way the output is what
 * crosses the socket, JSON, so the printed result cannot differ between the two.
 */
import { rm, stat } from "node:fs/promises";
import { userInfo } from "node:os";
import { openApp, type App } from "../app.js";
import type { Config } from "../config.js";
import { KeyfleetError, quoted } from "../domain/index.js";
import { createLogger } from "../logger.js";
import type { CliIo } from "./io.js";
import {
  isOperationName,
  operations,
  type OperationContext,
  type OperationName,
} from "./operations/index.js";

export async function runOperation(
  app: App,
  name: unknown,
  input: unknown,
  context: OperationContext,
): Promise<unknown> {
  checkName(name);
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new KeyfleetError("malformed-request", `the input of ${name} must be a JSON object`);
  }
  // Each operation checks its own input; the table's union of signatures is not callable as one.
  const run = operations[name].run as (
    app: App,
    input: unknown,
    context: OperationContext,
  ) => Promise<unknown>;
  return JSON.parse(JSON.stringify(await run(app, input, context))) as unknown;
}

/**
 * Opens the app as the operation asks, runs it, closes the app. A run that was to create the data
 * directory and failed removes it again: a refused first start leaves nothing behind.
 */
export async function runLocally(config: Config, io: CliIo, name: string, input: unknown): Promise<unknown> {
  checkName(name);
  const open = operations[name].open ?? {};
  const creates = open.create === true && !(await exists(config.dataDir));
  try {
    const logger = createLogger(config.logLevel, { write: (line: string) => io.err(logLine(line)) });
    const app = await openApp(config, logger, open);
    try {
      return await runOperation(app, name, input, { actor: `cli:${userInfo().username}` });
    } finally {
      await app.close();
    }
  } catch (e) {
    if (creates) await rm(config.dataDir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * An app opened once for many operations (a command that pages through a large log): the same
 * operations as `runLocally`, without opening the database for each. Opened as `first` asks.
 */
export async function openLocalSession(config: Config, io: CliIo, first: OperationName) {
  const logger = createLogger(config.logLevel, { write: (line: string) => io.err(logLine(line)) });
  const app = await openApp(config, logger, operations[first].open ?? {});
  return {
    run: (name: OperationName, input: unknown) =>
      runOperation(app, name, input, { actor: `cli:${userInfo().username}` }),
    close: () => app.close(),
  };
}

function checkName(name: unknown): asserts name is OperationName {
  if (!isOperationName(name)) {
    throw new KeyfleetError("malformed-request", `unknown operation ${quoted(String(name))}`);
  }
}

/** A command's log record as a person reads it on stderr: `keyfleet: warning: <message>`. */
function logLine(json: string): string {
  const record = JSON.parse(json) as { level: number; msg?: string };
  const level = record.level >= 50 ? "error" : record.level >= 40 ? "warning" : "note";
  return `keyfleet: ${level}: ${record.msg ?? ""}`;
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
