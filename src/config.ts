/**
 * Configuration of one process: flags beat environment variables, which beat `keyfleet.yaml` in the
 * data directory (SURFACE.md). The only file that reads process.env. A PIN file is read when the
 * token is opened (src/key-stores.ts), not here. Pure apart from reading that one
 * file, after checking that the data directory is its user's alone (every entry point loads its
 * configuration here first, so none opens a directory that others can write). Settings of the
 * authority itself (its public URL) live in the database, not here.
 */
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { checkDataDirectory, readOwnFile } from "./data-directory.js";
import { KeyfleetError, checkPublicUrl, quoted } from "./domain/index.js";
import type { OidcSettings } from "./policy/index.js";

export interface Config {
  readonly dataDir: string;
  /** postgres://… or undefined for PGlite in `${dataDir}/pglite`. */
  readonly databaseUrl: string | undefined;
  readonly passphrase: string | undefined;
  /**
   * The public URL asked for (flag, KEYFLEET_PUBLIC_URL, yaml), if any. It is written into the
   * database at `init` (or a first `serve`); afterwards `keyfleet config set public-url` changes it.
   */
  readonly publicUrl: string | undefined;
  /**
   * Where this process's plain-HTTP listener is reachable: the public URL when none is asked for.
   * Unknown (undefined) when the port is 0, chosen by the system at start.
   */
  readonly listenerUrl: string | undefined;
  readonly host: string;
  readonly httpsPort: number;
  readonly httpPort: number;
  readonly logLevel: string;
  /** OIDC bearer JWTs on the admin API; undefined (none accepted) unless an issuer is configured. */
  readonly oidc: OidcSettings | undefined;
  /** The PKCS#11 token CA keys may live in (`init --hsm`); undefined unless a module is configured. */
  readonly pkcs11: Pkcs11Settings | undefined;
}

/** A PKCS#11 token: its library, its label, and its user PIN (given, or in a file read when the token is opened). */
export interface Pkcs11Settings {
  readonly module: string;
  readonly token: string;
  /** Never logged, never shown, never in an error message. */
  readonly pin: { readonly value: string } | { readonly file: string };
}

/** The PKCS#11 settings as flags and yaml keys. */
const pkcs11Keys = {
  pkcs11Module: "KEYFLEET_PKCS11_MODULE",
  pkcs11Token: "KEYFLEET_PKCS11_TOKEN",
  pkcs11Pin: "KEYFLEET_PKCS11_PIN",
  pkcs11PinFile: "KEYFLEET_PKCS11_PIN_FILE",
} as const;
type Pkcs11Key = keyof typeof pkcs11Keys;

/** The OIDC settings as flags and yaml keys (KEYFLEET_OIDC_ISSUER… in the environment). */
const oidcKeys = {
  oidcIssuer: "KEYFLEET_OIDC_ISSUER",
  oidcAudience: "KEYFLEET_OIDC_AUDIENCE",
  oidcJwksUrl: "KEYFLEET_OIDC_JWKS_URL",
  oidcRoleClaim: "KEYFLEET_OIDC_ROLE_CLAIM",
  oidcScopesClaim: "KEYFLEET_OIDC_SCOPES_CLAIM",
  oidcGroupsClaim: "KEYFLEET_OIDC_GROUPS_CLAIM",
} as const;
type OidcKey = keyof typeof oidcKeys;

/** What a flag may set; undefined means "not given". */
export type ConfigFlags = Partial<
  Record<
    Exclude<keyof Config, "listenerUrl" | "oidc" | "pkcs11"> | OidcKey | Pkcs11Key,
    string | number | undefined
  >
>;

const defaults = {
  host: "127.0.0.1",
  httpsPort: 8443,
  httpPort: 8080,
  logLevel: "info",
  oidcRoleClaim: "keyfleet_role",
  oidcScopesClaim: "keyfleet_scopes",
  oidcGroupsClaim: "groups",
} as const;

/** The keys keyfleet.yaml may hold (the data directory is where the file is, so not among them). */
const fileKeys = [
  "databaseUrl",
  "passphrase",
  "publicUrl",
  "host",
  "httpsPort",
  "httpPort",
  "logLevel",
  ...(Object.keys(oidcKeys) as OidcKey[]),
  ...(Object.keys(pkcs11Keys) as Pkcs11Key[]),
] as const;
type FileKey = (typeof fileKeys)[number];

export function loadConfig(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = resolve(String(flags.dataDir ?? (env.KEYFLEET_DATA || "keyfleet-data")));
  checkDataDirectory(dataDir);
  const file = readConfigFile(dataDir);
  const pick = (key: FileKey, envName: string): string | undefined => {
    const value = flags[key] ?? env[envName] ?? file[key];
    return value === undefined || value === "" ? undefined : String(value);
  };
  const host = pick("host", "KEYFLEET_HOST") ?? defaults.host;
  const httpPort = port(pick("httpPort", "KEYFLEET_HTTP_PORT") ?? defaults.httpPort, "httpPort");
  const publicUrl = pick("publicUrl", "KEYFLEET_PUBLIC_URL");
  return {
    dataDir,
    databaseUrl: pick("databaseUrl", "DATABASE_URL"),
    passphrase: pick("passphrase", "KEYFLEET_PASSPHRASE"),
    publicUrl: publicUrl === undefined ? undefined : checkPublicUrl(publicUrl),
    listenerUrl: httpPort === 0 ? undefined : `http://${hostForUrl(host)}:${httpPort}`,
    host,
    httpsPort: port(pick("httpsPort", "KEYFLEET_HTTPS_PORT") ?? defaults.httpsPort, "httpsPort"),
    httpPort,
    logLevel: pick("logLevel", "KEYFLEET_LOG_LEVEL") ?? defaults.logLevel,
    oidc: oidcSettings((key) => pick(key, oidcKeys[key])),
    pkcs11: pkcs11Settings((key) => pick(key, pkcs11Keys[key]), dataDir),
  };
}

/**
 * Module, token and one PIN source go together; without a module nothing PKCS#11 is configured,
 * so a token or PIN alone is refused (it would configure nothing). The PIN is never echoed.
 */
function pkcs11Settings(
  pick: (key: Pkcs11Key) => string | undefined,
  dataDir: string,
): Pkcs11Settings | undefined {
  const given = (Object.keys(pkcs11Keys) as Pkcs11Key[]).filter((k) => pick(k) !== undefined);
  if (given.length === 0) return undefined;
  const names = (keys: readonly Pkcs11Key[]) => keys.map((k) => pkcs11Keys[k]).join(", ");
  const pin = pick("pkcs11Pin");
  const pinFile = pick("pkcs11PinFile");
  const missing: Pkcs11Key[] = (["pkcs11Module", "pkcs11Token"] as const).filter(
    (k) => pick(k) === undefined,
  );
  if (pin === undefined && pinFile === undefined) missing.push("pkcs11Pin");
  if (missing.length > 0) {
    throw new KeyfleetError(
      "invalid-configuration",
      `a PKCS#11 token needs KEYFLEET_PKCS11_MODULE, KEYFLEET_PKCS11_TOKEN and KEYFLEET_PKCS11_PIN (or KEYFLEET_PKCS11_PIN_FILE); missing: ${names(missing)}`,
    );
  }
  if (pin !== undefined && pinFile !== undefined) {
    throw new KeyfleetError(
      "invalid-configuration",
      "KEYFLEET_PKCS11_PIN and KEYFLEET_PKCS11_PIN_FILE are both set: give the PIN one way",
    );
  }
  const token = pick("pkcs11Token")!;
  // CK_TOKEN_INFO.label is 32 bytes, blank-padded (PKCS#11 v2.40 §3.2).
  if (Buffer.byteLength(token) > 32 || token !== token.trim()) {
    throw new KeyfleetError(
      "invalid-configuration",
      `KEYFLEET_PKCS11_TOKEN must be a token label of at most 32 bytes without surrounding blanks, got ${quoted(token)}`,
    );
  }
  return {
    module: pick("pkcs11Module")!, // as given: dlopen also searches the library path for a bare name
    token,
    pin: pin !== undefined ? { value: pin } : { file: resolve(dataDir, pinFile!) },
  };
}

/**
 * Issuer, audience and JWKS URL go together: all three, or none (no JWT is accepted). The claim
 * names have defaults; given without an issuer they would configure nothing, so they are refused.
 */
function oidcSettings(pick: (key: OidcKey) => string | undefined): OidcSettings | undefined {
  const required = ["oidcIssuer", "oidcAudience", "oidcJwksUrl"] as const;
  const given = (Object.keys(oidcKeys) as OidcKey[]).filter((k) => pick(k) !== undefined);
  if (given.length === 0) return undefined;
  const missing = required.filter((k) => pick(k) === undefined);
  if (missing.length > 0) {
    throw new KeyfleetError(
      "invalid-configuration",
      `OIDC needs ${required.map((k) => oidcKeys[k]).join(", ")} together; missing: ${missing.map((k) => oidcKeys[k]).join(", ")}`,
    );
  }
  const claim = (key: "oidcRoleClaim" | "oidcScopesClaim" | "oidcGroupsClaim", fallback: string): string => {
    const value = pick(key) ?? fallback;
    if (!/^[\x21-\x7e]{1,64}$/.test(value)) {
      throw new KeyfleetError(
        "invalid-configuration",
        `${oidcKeys[key]} must be a claim name of 1 to 64 printable characters, got ${quoted(value)}`,
      );
    }
    return value;
  };
  const settings: OidcSettings = {
    issuer: oidcUrl(pick("oidcIssuer")!, "KEYFLEET_OIDC_ISSUER", true),
    audience: pick("oidcAudience")!,
    jwksUrl: oidcUrl(pick("oidcJwksUrl")!, "KEYFLEET_OIDC_JWKS_URL", false),
    roleClaim: claim("oidcRoleClaim", defaults.oidcRoleClaim),
    scopesClaim: claim("oidcScopesClaim", defaults.oidcScopesClaim),
    groupsClaim: claim("oidcGroupsClaim", defaults.oidcGroupsClaim),
  };
  const claims = [settings.roleClaim, settings.scopesClaim, settings.groupsClaim];
  if (new Set(claims).size < claims.length) {
    throw new KeyfleetError(
      "invalid-configuration",
      `KEYFLEET_OIDC_ROLE_CLAIM, KEYFLEET_OIDC_SCOPES_CLAIM and KEYFLEET_OIDC_GROUPS_CLAIM must differ, got ${claims.map((c) => quoted(c)).join(", ")}`,
    );
  }
  return settings;
}

/**
 * An https URL, or http on a loopback host (a JWKS over plain HTTP from elsewhere lets anyone on
 * the path substitute the keys). An issuer has no query or fragment (OpenID Connect Core 1.0 §2)
 * and is kept exactly as given: JWTs' `iss` is compared with it as a string.
 */
function oidcUrl(value: string, name: string, issuer: boolean): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new KeyfleetError("invalid-configuration", `${name} must be a URL, got ${quoted(value)}`);
  }
  const loopback = /^(localhost|127(\.[0-9]{1,3}){3}|\[::1\])$/.test(url.hostname);
  if (!(url.protocol === "https:" || (url.protocol === "http:" && loopback))) {
    throw new KeyfleetError(
      "invalid-configuration",
      `${name} must be an https URL (http only on a loopback host), got ${quoted(value)}`,
    );
  }
  if (issuer && (url.search !== "" || url.hash !== "" || value.includes("#") || value.includes("?"))) {
    throw new KeyfleetError(
      "invalid-configuration",
      `${name} must have no query or fragment, got ${quoted(value)}`,
    );
  }
  return value;
}

/** The process's environment, for the CLI to hand to `loadConfig` (tests hand their own). */
export function processEnvironment(): NodeJS.ProcessEnv {
  return process.env;
}

function readConfigFile(dataDir: string): Partial<Record<FileKey, unknown>> {
  const path = join(dataDir, "keyfleet.yaml");
  const text = readOwnFile(path);
  if (text === undefined) return {};
  let parsed: unknown;
  try {
    // Loaded only when there is a file to read: most commands have none, and each one starts fresh.
    const { parse } = createRequire(import.meta.url)("yaml") as typeof import("yaml");
    parsed = parse(text);
  } catch (cause) {
    throw new KeyfleetError("invalid-configuration", `${path} is not valid YAML`, { cause });
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new KeyfleetError("invalid-configuration", `${path} is not a YAML mapping`);
  }
  for (const key of Object.keys(parsed)) {
    if (!(fileKeys as readonly string[]).includes(key)) {
      throw new KeyfleetError(
        "invalid-configuration",
        `${path}: unknown key ${quoted(key)}; did you mean "${nearest(key, fileKeys)}"? (keys: ${fileKeys.join(", ")})`,
      );
    }
  }
  return parsed as Record<string, unknown>;
}

/** The candidate with the smallest edit distance (case-insensitive) to `word`. */
function nearest(word: string, candidates: readonly string[]): string {
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let diagonal = row[0]!;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const above = row[j]!;
        row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
        diagonal = above;
      }
    }
    return row[b.length]!;
  };
  const w = word.toLowerCase();
  return candidates.reduce((best, c) =>
    distance(w, c.toLowerCase()) < distance(w, best.toLowerCase()) ? c : best,
  );
}

function port(value: string | number, name: string): number {
  const n = Number(value);
  if (!/^[0-9]{1,5}$/.test(String(value)) || n > 65535) {
    throw new KeyfleetError(
      "invalid-configuration",
      `${name} must be a port number (0–65535), got ${quoted(String(value))}`,
    );
  }
  return n;
}

function hostForUrl(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}
