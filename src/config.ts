/**
 * Configuration: flags beat environment variables, which beat `keyfleet.yaml` in the data directory
 * (SURFACE.md). The only file that reads process.env. Pure apart from reading that one file.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { KeyfleetError } from "./domain/index.js";

export interface Config {
  readonly dataDir: string;
  /** postgres://… or undefined for PGlite in `${dataDir}/pglite`. */
  readonly databaseUrl: string | undefined;
  readonly passphrase: string | undefined;
  /** Base URL written into certificates (CRL distribution point, OCSP, caIssuers); plain HTTP per RFC 5280 §4.2.1.13 practice. */
  readonly publicUrl: string;
  readonly host: string;
  readonly httpsPort: number;
  readonly httpPort: number;
  readonly logLevel: string;
}

/** What a flag may set; undefined means "not given". */
export type ConfigFlags = Partial<Record<keyof Config, string | number | undefined>>;

const defaults = {
  host: "127.0.0.1",
  httpsPort: 8443,
  httpPort: 8080,
  logLevel: "info",
} as const;

export function loadConfig(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = resolve(String(flags.dataDir ?? env.KEYFLEET_DATA ?? "keyfleet-data"));
  const file = readConfigFile(dataDir);
  const pick = (key: keyof Config, envName?: string): string | undefined => {
    const value = flags[key] ?? (envName ? env[envName] : undefined) ?? file[key];
    return value === undefined || value === "" ? undefined : String(value);
  };
  const host = pick("host", "KEYFLEET_HOST") ?? defaults.host;
  const httpPort = port(pick("httpPort", "KEYFLEET_HTTP_PORT") ?? defaults.httpPort, "httpPort");
  const config: Config = {
    dataDir,
    databaseUrl: pick("databaseUrl", "DATABASE_URL"),
    passphrase: pick("passphrase", "KEYFLEET_PASSPHRASE"),
    publicUrl: (pick("publicUrl", "KEYFLEET_PUBLIC_URL") ?? `http://${hostForUrl(host)}:${httpPort}`).replace(
      /\/+$/,
      "",
    ),
    host,
    httpsPort: port(pick("httpsPort", "KEYFLEET_HTTPS_PORT") ?? defaults.httpsPort, "httpsPort"),
    httpPort,
    logLevel: pick("logLevel", "KEYFLEET_LOG_LEVEL") ?? defaults.logLevel,
  };
  checkPublicUrl(config.publicUrl);
  return config;
}

function readConfigFile(dataDir: string): Partial<Record<keyof Config, unknown>> {
  let text: string;
  try {
    text = readFileSync(join(dataDir, "keyfleet.yaml"), "utf8");
  } catch {
    return {};
  }
  try {
    const parsed: unknown = parseYaml(text);
    if (parsed === null || parsed === undefined) return {};
    if (typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not a mapping");
    return parsed as Record<string, unknown>;
  } catch (cause) {
    throw new KeyfleetError(
      "invalid-configuration",
      `${join(dataDir, "keyfleet.yaml")} is not a YAML mapping`,
      { cause },
    );
  }
}

function port(value: string | number, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new KeyfleetError(
      "invalid-configuration",
      `${name} must be a port number (0–65535), got "${value}"`,
    );
  }
  return n;
}

function hostForUrl(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

function checkPublicUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new KeyfleetError("invalid-configuration", `KEYFLEET_PUBLIC_URL is not a URL: "${url}"`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new KeyfleetError("invalid-configuration", `KEYFLEET_PUBLIC_URL must be http(s), got "${url}"`);
  }
}
