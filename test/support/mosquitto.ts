/**
 * A real Mosquitto broker for enforcement tests: MQTT over TLS on a free loopback port with
 * `require_certificate true`, our chain as `cafile` and our CRL bundle as `crlfile`, no
 * persistence, logging to a file in the test's own directory; optionally the dynamic-security
 * plugin with a plain loopback listener for `mosquitto_ctrl`. The real clients, `mosquitto_pub`
 * and `mosquitto_sub`, connect as devices with their own keys. Readiness is a port that accepts.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { createServer, connect } from "node:net";
import { userInfo } from "node:os";
import { join } from "node:path";

export interface BrokerFiles {
  /** The CAs whose client certificates the broker accepts (our chain). */
  readonly cafile: string;
  readonly crlfile: string;
  /** The broker's own TLS certificate and key. */
  readonly certfile: string;
  readonly keyfile: string;
}

export interface Dynsec {
  readonly admin: string;
  readonly password: string;
}

export interface Broker {
  readonly port: number;
  readonly pid: number;
  /** `mosquitto_ctrl … dynsec ARGS` on the admin listener (with `dynsec` only). */
  ctrl(...args: string[]): Promise<Run>;
  log(): Promise<string>;
  stop(): Promise<void>;
  /** Stopped and started again on the same ports and files: every session is dropped. */
  restart(): Promise<void>;
}

/** A device's TLS credentials, as its MQTT client is given them. */
export interface DeviceTls {
  readonly cert: string;
  readonly key: string;
}

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Ports the kernel has just handed out, so free now; the broker binds them moments later. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function run(program: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(program, [...args], { timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Where Debian (any architecture) keeps the plugin: it comes with the mosquitto package. */
function dynsecPlugin(): string {
  for (const dir of ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib"]) {
    const path = join(dir, "mosquitto_dynamic_security.so");
    if (existsSync(path)) return path;
  }
  throw new Error("mosquitto_dynamic_security.so not found: run `node scripts/ensure-tools.mjs`");
}

export async function startMosquitto(dir: string, files: BrokerFiles, dynsec?: Dynsec): Promise<Broker> {
  const port = await freePort();
  const adminPort = dynsec ? await freePort() : undefined;
  const logFile = join(dir, "mosquitto.log");
  const lines = [
    "per_listener_settings false",
    "persistence false",
    // As root Mosquitto would drop to the `mosquitto` user, who cannot read a test's temporary files.
    `user ${userInfo().username}`,
    `log_dest file ${logFile}`,
    "log_type all",
  ];
  if (dynsec) {
    const config = join(dir, "dynamic-security.json");
    const init = await run("mosquitto_ctrl", ["dynsec", "init", config, dynsec.admin, dynsec.password]);
    if (init.code !== 0) throw new Error(`mosquitto_ctrl dynsec init: ${init.stderr}`);
    // Devices authenticate by certificate (use_identity_as_username): each is a dynsec client
    // named by its certificate's CN, with the default access below (mosquitto_ctrl 2.0.11 does
    // not apply setDefaultACLAccess, so it is set in the file before the broker reads it).
    const state = JSON.parse(await readFile(config, "utf8")) as Record<string, unknown>;
    state.defaultACLAccess = {
      publishClientSend: true,
      publishClientReceive: true,
      subscribe: true,
      unsubscribe: true,
    };
    await writeFile(config, JSON.stringify(state));
    lines.push(`plugin ${dynsecPlugin()}`, `plugin_opt_config_file ${config}`);
    lines.push(`listener ${adminPort} 127.0.0.1`);
  } else {
    lines.push("allow_anonymous false");
  }
  lines.push(
    `listener ${port} 127.0.0.1`,
    `cafile ${files.cafile}`,
    `certfile ${files.certfile}`,
    `keyfile ${files.keyfile}`,
    "require_certificate true",
    "use_identity_as_username true",
    `crlfile ${files.crlfile}`,
  );
  const conf = join(dir, "mosquitto.conf");
  await writeFile(conf, lines.join("\n") + "\n");
  const log = () => readFile(logFile, "utf8").catch(() => "");
  const launch = async () => {
    const child = spawn("mosquitto", ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise((r) => child.once("exit", r));
    await until(
      "mosquitto to listen",
      async () => {
        if (child.exitCode !== null) throw new Error(`mosquitto exited: ${stderr}${await log()}`);
        return (await accepts(port)) && (adminPort === undefined || (await accepts(adminPort)));
      },
      30_000,
    );
    return { child, exited };
  };
  let running = await launch();
  const stop = async () => {
    if (running.child.exitCode === null) running.child.kill("SIGTERM");
    await running.exited;
  };
  const admin = ["-h", "127.0.0.1", "-p", String(adminPort), "-u", dynsec?.admin ?? "", "-P"];
  return {
    port,
    get pid() {
      return running.child.pid!;
    },
    ctrl: (...args) => run("mosquitto_ctrl", [...admin, dynsec?.password ?? "", "dynsec", ...args]),
    log,
    stop,
    async restart() {
      await stop();
      running = await launch();
    },
  };
}

function tlsArgs(broker: Broker, ca: string, device: DeviceTls): string[] {
  return [
    "-h",
    "127.0.0.1",
    "-p",
    String(broker.port),
    "--cafile",
    ca,
    "--cert",
    device.cert,
    "--key",
    device.key,
  ];
}

/** `mosquitto_pub` at QoS 1: exit 0 only once the broker has accepted the connection and acknowledged the message. */
export function mqttPublish(broker: Broker, ca: string, device: DeviceTls, topic: string, message: string) {
  return run("mosquitto_pub", [...tlsArgs(broker, ca, device), "-q", "1", "-t", topic, "-m", message]);
}

/** A `mosquitto_sub` session held open, its messages collected; it reconnects on its own if dropped. */
export function mqttSubscribe(broker: Broker, ca: string, device: DeviceTls, topic: string) {
  const child = spawn("mosquitto_sub", [...tlsArgs(broker, ca, device), "-q", "1", "-t", topic], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let messages = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (messages += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return {
    messages: () => messages.split("\n").filter(Boolean),
    stderr: () => stderr,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Polls `check` (a connection attempt, a message seen) until it holds; generous for a loaded machine. */
export function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  return until(what, check, timeoutMs);
}
