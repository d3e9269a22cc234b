#!/usr/bin/env node
/**
 * pretest: makes sure the system tools the interoperability tests use are here, and the PostgreSQL
 * tier is reachable. As root with apt it installs and starts what is missing; otherwise it stops
 * with the exact command to run. It never lets the suite skip silently.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import net from "node:net";

// Each tool the suite runs today, and the Debian package that brings it. Add a line when a test needs one.
const tools = [
  { command: "openssl", pkg: "openssl" },
  { command: "curl", pkg: "curl" },
  { command: "jq", pkg: "jq" },
  // strongSwan's EST client (`pki --est`, test/est-strongswan.test.ts); its HTTP comes from the curl plugin.
  { command: "pki", pkg: "strongswan-pki" },
  { file: "/usr/lib/ipsec/plugins/libstrongswan-curl.so", pkg: "libstrongswan-extra-plugins" },
  // PKCS#11 tests: SoftHSM2 stands in for HSMs and device secure elements; pkcs11-tool reads the token independently.
  { command: "softhsm2-util", pkg: "softhsm2" },
  { command: "pkcs11-tool", pkg: "opensc" },
  // The enforcing broker (test/mosquitto-*.test.ts): mosquitto brings mosquitto_ctrl and the
  // dynamic-security plugin; mosquitto-clients the real MQTT client, mosquitto_pub / mosquitto_sub.
  { command: "mosquitto", pkg: "mosquitto" },
  { command: "mosquitto_pub", pkg: "mosquitto-clients" },
];

const isRoot = process.getuid?.() === 0;
const hasApt = existsSync("/usr/bin/apt-get");
let aptUpdated = false;

function have(command) {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

function aptInstall(packages) {
  if (!isRoot || !hasApt) {
    fail(`missing ${packages.join(", ")}: run \`sudo apt-get install -y ${packages.join(" ")}\``);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  if (!aptUpdated) execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  aptUpdated = true;
  execFileSync("apt-get", ["install", "-y", "-qq", ...packages], { stdio: "inherit", env });
}

function fail(message) {
  console.error(`pretest: ${message}`);
  process.exit(1);
}

function reachable(host, port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 2000 });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => (socket.destroy(), resolve(false)));
  });
}

async function ensurePostgres() {
  const url = new URL(process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test");
  const host = url.hostname;
  const port = Number(url.port || 5432);
  if (await reachable(host, port)) return;
  if (!["127.0.0.1", "localhost", "::1"].includes(host)) {
    fail(`PostgreSQL at ${host}:${port} is not reachable; start it or set TEST_DATABASE_URL`);
  }
  if (!existsSync("/etc/postgresql")) aptInstall(["postgresql"]);
  if (!isRoot) fail(`PostgreSQL is not running: run \`sudo pg_ctlcluster <version> main start\``);
  for (const version of readdirSync("/etc/postgresql")) {
    spawnSync("pg_ctlcluster", ["--skip-systemctl-redirect", version, "main", "start"], { stdio: "inherit" });
  }
  for (let i = 0; i < 30 && !(await reachable(host, port)); i++) await new Promise((r) => setTimeout(r, 500));
  if (!(await reachable(host, port))) fail(`PostgreSQL did not start on ${host}:${port}`);
  const database = url.pathname.slice(1) || "test";
  // Trust auth for local tests, as on the developers' machines; create the database if it is missing.
  spawnSync("su", ["postgres", "-c", `createdb -h ${host} -p ${port} ${database}`], { stdio: "ignore" });
}

const missing = tools.filter((t) => (t.file ? !existsSync(t.file) : !have(t.command))).map((t) => t.pkg);
if (missing.length) aptInstall(missing);
await ensurePostgres();
console.log(`pretest: ${tools.map((t) => t.command ?? t.pkg).join(", ")} and PostgreSQL are ready`);
