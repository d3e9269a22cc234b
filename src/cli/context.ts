/** What every command shares: global options, opening the app, printing, and the one-line failure. */
import type { Command } from "commander";
import { openApp, type App, type AppOptions } from "../app.js";
import { loadConfig, type ConfigFlags } from "../config.js";
import { createLogger } from "../logger.js";

export interface GlobalOptions {
  readonly data?: string;
  readonly databaseUrl?: string;
  readonly json?: boolean;
}

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export const processOutput: Output = {
  out: (text) => process.stdout.write(text.endsWith("\n") ? text : text + "\n"),
  err: (text) => process.stderr.write(text.endsWith("\n") ? text : text + "\n"),
};

export function globals(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

/** Opens the app for one command and always closes it. Command logs go to stderr (stdout is for results). */
export async function withApp<T>(
  command: Command,
  flags: ConfigFlags,
  work: (app: App) => Promise<T>,
  options: AppOptions = {},
): Promise<T> {
  const g = globals(command);
  const config = loadConfig({ dataDir: g.data, databaseUrl: g.databaseUrl, logLevel: "warn", ...flags });
  const logger = createLogger(config.logLevel, process.stderr);
  const app = await openApp(config, logger, options);
  try {
    return await work(app);
  } finally {
    await app.close();
  }
}

export function print(output: Output, json: boolean | undefined, value: unknown, text: () => string): void {
  output.out(json ? JSON.stringify(value, null, 2) : text());
}
