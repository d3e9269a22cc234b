/**
 * The `keyfleet-agent` command: enroll, renew, status, check-in, erase, refresh, check-peer and run
 * (renew by itself). Arguments are read with node:util parseArgs (the agent imports nothing but
 * crypto, pki and node built-ins, so it fits a small device). A failure is one line `keyfleet-agent: <what went wrong> (<code>)`, exit 1.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { keyAlgorithmFor, type KeyAlgorithmId } from "../crypto/index.js";
import { isKeyfleetError, KeyfleetError, quoted } from "../domain/index.js";
import type { BootstrapCredential } from "./bootstrap-credential.js";
import { enroll } from "./enroll.js";
import { checkPeer } from "./check-peer.js";
import { checkIn, erase, type CheckIn, type EraseOutcome } from "./erase.js";
import { refreshRevocation, type RefreshReport } from "./revocation-cache.js";
import type { CertificateStatus, InstalledCertificate } from "./issued-certificate.js";
import { runAgent } from "./run.js";
import { renew, status } from "./renew.js";
import type { KeyStoreSettings } from "./state-directory.js";

export interface AgentIo {
  out(line: string): void;
  err(line: string): void;
}

const usage = `usage: keyfleet-agent <command> [options]
  enroll --server URL --device ID (--token T | --token-file F | --idevid-cert F --idevid-key F|pkcs11:URI)
         [--key-store file|pkcs11 --pkcs11-module PATH --pkcs11-token LABEL --pkcs11-pin-file F]
         [--ca-bundle F] [--label L] [--algorithm p256|p384|ed25519|rsa2048] [--renew-at 0.667]
  renew    renew now with a new key [--token T | --token-file F | --idevid-cert F --idevid-key K:
           re-authenticate instead of using the current certificate, as after it expired]
  status   the current certificate: subject, serial, notAfter, renewal time
  run      renew by itself at the renewal time (or the server's, when sooner; at once when told to
           rotate), backing off while the server is unreachable; checks in with the server on the
           way, and erases when told to
  check-in ask the server what the device is to do and when its certificate is due; erase its
           keys when it is being retired
  erase    erase the device's keys now (and report it to the server): the agent is done for good
  refresh  fetch the issuer's CRL and the certificate's OCSP response now, verify and keep them
  check-peer PEER.pem
           check a peer's certificate against the kept CA bundle and CRL, offline: one line,
           exit 0 when good, 2 when revoked, on hold, untrusted or not decidable
common: [--state DIR (default ./keyfleet-agent)] [--json]`;

const options = {
  state: { type: "string", default: "keyfleet-agent" },
  json: { type: "boolean", default: false },
  server: { type: "string" },
  device: { type: "string" },
  token: { type: "string" },
  "token-file": { type: "string" },
  "idevid-cert": { type: "string" },
  "idevid-key": { type: "string" },
  "key-store": { type: "string", default: "file" },
  "pkcs11-module": { type: "string" },
  "pkcs11-token": { type: "string" },
  "pkcs11-pin-file": { type: "string" },
  "ca-bundle": { type: "string" },
  label: { type: "string" },
  algorithm: { type: "string", default: "p256" },
  "renew-at": { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} satisfies ParseArgsConfig["options"];

type Values = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>["values"];

const bad = (message: string): KeyfleetError => new KeyfleetError("malformed-request", message);

function required(values: Values, name: "server" | "device"): string {
  const value = values[name];
  if (!value) throw bad(`enroll needs --${name}`);
  return value;
}

async function credential(values: Values, command = "enroll"): Promise<BootstrapCredential> {
  const given = [values.token, values["token-file"], values["idevid-cert"]].filter(
    (v) => v !== undefined,
  ).length;
  if (given !== 1) {
    throw bad(`${command} needs one of --token, --token-file or --idevid-cert with --idevid-key`);
  }
  if (values.token !== undefined) return { kind: "token", token: values.token };
  if (values["token-file"] !== undefined) {
    return { kind: "token", token: (await readFile(values["token-file"], "utf8")).trim() };
  }
  const key = values["idevid-key"];
  if (!key) {
    throw bad(
      "--idevid-cert needs --idevid-key (the IDevID's key file, or its pkcs11: URI in the agent's token)",
    );
  }
  // Absolute: the agent remembers its IDevID, to come back with it after its certificate expired.
  const certificateFile = resolve(values["idevid-cert"]!);
  return key.startsWith("pkcs11:")
    ? { kind: "idevid-pkcs11", certificateFile, keyUri: key }
    : { kind: "idevid", certificateFile, keyFile: resolve(key) };
}

function keyStore(values: Values, deviceId: string): KeyStoreSettings {
  if (values["key-store"] === "file") return { kind: "file" };
  if (values["key-store"] !== "pkcs11")
    throw bad(`--key-store is file or pkcs11, not ${quoted(values["key-store"])}`);
  const module = values["pkcs11-module"];
  const token = values["pkcs11-token"];
  const pinFile = values["pkcs11-pin-file"];
  if (!module || !token || !pinFile) {
    throw bad("--key-store pkcs11 needs --pkcs11-module, --pkcs11-token and --pkcs11-pin-file");
  }
  return { kind: "pkcs11", module, token, pinFile, label: `keyfleet-agent ${deviceId}` };
}

function serverUrl(text: string): URL {
  try {
    return new URL(text);
  } catch {
    throw bad(`--server ${quoted(text)} is not a URL`);
  }
}

function printStatus(io: AgentIo, s: CertificateStatus | InstalledCertificate, json: boolean): void {
  if (json) {
    io.out(JSON.stringify(s));
    return;
  }
  io.out(`subject:   ${s.subject}`);
  io.out(`serial:    ${s.serial}`);
  io.out(`notAfter:  ${s.notAfter.toISOString()}`);
  io.out(`renewAt:   ${s.renewAt.toISOString()}`);
  if ("confirmed" in s) {
    io.out(
      `confirmed: ${s.confirmed ? "yes, in use" : "not yet (the device's next request with it confirms it)"}`,
    );
  }
}

function printErase(io: AgentIo, e: EraseOutcome, json: boolean): void {
  if (json) {
    io.out(JSON.stringify(e));
    return;
  }
  io.out(`erased:    ${e.erasedAt} (the device's keys are destroyed)`);
  io.out(`reported:  ${e.reported ? "yes, the server has the signed report" : `not yet: ${e.pending}`}`);
}

function printCheckIn(io: AgentIo, c: CheckIn, json: boolean): void {
  if (json) {
    io.out(JSON.stringify(c));
    return;
  }
  io.out(`state:     ${c.state}`);
  io.out(`action:    ${c.action}`);
  if (c.renewAt) io.out(`renewAt:   ${c.renewAt.toISOString()} (the server's time for this certificate)`);
  if (c.erase) printErase(io, c.erase, false);
}

function printRefresh(io: AgentIo, r: RefreshReport, json: boolean): void {
  if (json) {
    io.out(JSON.stringify(r));
    return;
  }
  for (const [name, x] of [
    ["crl", r.crl],
    ["ocsp", r.ocsp],
  ] as const) {
    const facts = [
      x.number === undefined ? "" : ` #${x.number}`,
      x.certStatus === undefined ? "" : ` ${x.certStatus}`,
      x.nextUpdate === undefined ? "" : `, next update ${x.nextUpdate}`,
      x.message === undefined ? "" : `: ${x.message}`,
    ].join("");
    io.out(`${`${name}:`.padEnd(10)} ${x.status}${facts}`);
  }
}

async function runCommand(
  command: string | undefined,
  values: Values,
  io: AgentIo,
  operand: string | undefined,
): Promise<number | void> {
  switch (command) {
    case "enroll": {
      const deviceId = required(values, "device");
      const fraction = values["renew-at"] === undefined ? undefined : Number(values["renew-at"]);
      const caBundlePem =
        values["ca-bundle"] === undefined ? undefined : await readFile(values["ca-bundle"], "utf8");
      const s = await enroll({
        stateDir: values.state,
        server: serverUrl(required(values, "server")),
        deviceId,
        credential: await credential(values),
        keyStore: keyStore(values, deviceId),
        ...(caBundlePem === undefined ? {} : { caBundlePem }),
        ...(values.label === undefined ? {} : { label: values.label }),
        algorithm: keyAlgorithmFor(values.algorithm, "device").id as KeyAlgorithmId,
        ...(fraction === undefined ? {} : { renewalFraction: fraction }),
      });
      printStatus(io, s, values.json);
      return;
    }
    case "renew": {
      // A credential given re-authenticates as at enrollment (after the certificate expired).
      const reauthenticating = [values.token, values["token-file"], values["idevid-cert"]].some(
        (v) => v !== undefined,
      );
      const given = reauthenticating ? await credential(values, "renew") : undefined;
      printStatus(io, await renew(values.state, { credential: given }), values.json);
      return;
    }
    case "status":
      printStatus(io, await status(values.state), values.json);
      return;
    case "check-in":
      printCheckIn(io, await checkIn(values.state), values.json);
      return;
    case "erase":
      printErase(io, await erase(values.state), values.json);
      return;
    case "refresh":
      printRefresh(io, await refreshRevocation(values.state, { force: true }), values.json);
      return;
    case "check-peer": {
      if (operand === undefined) throw bad("check-peer needs the peer's certificate: check-peer PEER.pem");
      const pem = await readFile(operand, "utf8").catch((cause: unknown) => {
        throw new KeyfleetError("invalid-configuration", `cannot read ${quoted(operand, 200)}`, { cause });
      });
      const checked = await checkPeer(values.state, pem, operand, new Date());
      io.out(values.json ? JSON.stringify(checked) : checked.line);
      return checked.verdict === "good" ? 0 : 2;
    }
    case "run":
      return runForever(values.state, io);
    default:
      throw bad(
        command === undefined
          ? `no command\n${usage}`
          : `unknown command ${quoted(command)}; use enroll, renew, status, check-in, erase, refresh, check-peer or run`,
      );
  }
}

async function runForever(stateDir: string, io: AgentIo): Promise<void> {
  let stop = false;
  let wake: () => void = () => undefined;
  const onSignal = (): void => {
    stop = true;
    wake();
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  try {
    await runAgent(stateDir, (line) => io.out(line), {
      now: () => new Date(),
      sleep: (ms) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          wake = () => (clearTimeout(timer), resolve());
        }),
      random: Math.random,
      stopped: () => stop,
    });
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  }
}

/** The one line a failure prints. */
export function errorLine(e: unknown): string {
  const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, "; ");
  if (isKeyfleetError(e)) return `keyfleet-agent: ${oneLine(e.message)} (${e.code})`;
  const code = (e as { code?: unknown })?.code;
  if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS")) {
    return `keyfleet-agent: ${oneLine((e as Error).message)} (malformed-request)`;
  }
  return `keyfleet-agent: unexpected error: ${oneLine(e instanceof Error ? e.message : String(e))} (internal)`;
}

/** Runs the agent on `args` (the arguments after the program name); resolves to the exit code. */
export async function main(args: readonly string[], io: AgentIo): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options,
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      io.out(usage);
      return 0;
    }
    const operands = positionals[0] === "check-peer" ? 2 : 1;
    if (positionals.length > operands) {
      throw bad(`unexpected arguments: ${positionals.slice(operands).join(" ")}`);
    }
    return (await runCommand(positionals[0], values, io, positionals[1])) ?? 0;
  } catch (e) {
    io.err(errorLine(e));
    return 1;
  }
}
