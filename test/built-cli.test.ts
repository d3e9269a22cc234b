/**
 * The installed command is the bundle `npm run build` makes (scripts/build.mjs → dist/, loaded by
 * bin/keyfleet.js), not the TypeScript sources the rest of the suite runs through tsx. This builds
 * the checkout into scratch space laid out like the package and runs that: help without the app,
 * a command on PostgreSQL (pg and Kysely inside the bundle), and `keyfleet serve` on PGlite (left
 * outside it) issuing through its CSR worker threads, a file the bundle must emit beside itself;
 * then the bundled `keyfleet-agent` (its own bundle, none of the server in it) enrolling and
 * renewing against that server, and the bundled `keyfleet simulate` running a small fleet.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, inject, test } from "vitest";
import { adminQuery } from "./support/databases.js";
import { keyfleet, keyfleetServe, stop } from "./support/cli.js";
import { openssl, opensslCsr, workdir, type Workdir } from "./support/openssl.js";

const root = join(import.meta.dirname, "..");
let scratch: string; // inside the project, so the bundle finds the packages it leaves external
let bin: string;
let agentBin: string;
let dir: Workdir;

beforeAll(async () => {
  await mkdir(join(root, "node_modules", ".cache"), { recursive: true });
  scratch = await mkdtemp(join(root, "node_modules", ".cache", "keyfleet-built-cli-"));
  await mkdir(join(scratch, "bin"));
  bin = join(scratch, "bin", "keyfleet.js");
  agentBin = join(scratch, "bin", "keyfleet-agent.js");
  await copyFile(join(root, "bin", "keyfleet.js"), bin);
  await copyFile(join(root, "bin", "keyfleet-agent.js"), agentBin);
  await promisify(execFile)(process.execPath, [join(root, "scripts", "build.mjs"), join(scratch, "dist")]);
  dir = await workdir();
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
  await dir?.dispose();
});

/** The files a module imports statically (not through import()), and theirs, from `file` on. */
async function staticClosure(distDir: string, file: string, seen = new Set<string>()): Promise<Set<string>> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = await readFile(join(distDir, file), "utf8");
  for (const [, target] of text.matchAll(/^import\s(?:[^;("]*?\sfrom\s)?"\.\/([^"]+)";/gm)) {
    await staticClosure(distDir, target!, seen);
  }
  return seen;
}

/** The server's heavy packages: the database driver, the query builder, the logger, the HTTP server. */
const serverPackages = [
  "node_modules/kysely",
  "node_modules/pg",
  "node_modules/pino",
  "node_modules/fastify",
];

/** What the bundle loads statically from its entry `file`, by package and source file. */
async function bundledModules(file: string): Promise<Set<string>> {
  const distDir = join(scratch, "dist");
  const files = [...(await staticClosure(distDir, file))];
  const sources = (await Promise.all(files.map((f) => readFile(join(distDir, f), "utf8")))).join("\n");
  // esbuild names each module it bundles in a comment: `// node_modules/kysely/dist/esm/…`, `// src/app.ts`.
  return new Set(
    [...sources.matchAll(/^\/\/ (node_modules\/(?:@[^/]+\/)?[^/]+|src\/[^\n]+)/gm)].map((m) => m[1]!),
  );
}

test("--help runs from the bundle and loads the command tree only, not the app", async () => {
  const res = await keyfleet(["--help"], {}, bin);
  expect(res).toMatchObject({ code: 0, stderr: "" });
  expect(res.stdout).toMatch(/^Usage: keyfleet/);

  const bundled = await bundledModules("keyfleet.js");
  expect(bundled).toContain("node_modules/commander");
  for (const heavy of [...serverPackages, "src/app.ts"]) expect(bundled).not.toContain(heavy);
});

test("the agent's bundle holds none of the server: no app, database driver, HTTP server or logger", async () => {
  const bundled = await bundledModules("keyfleet-agent.js");
  expect(bundled).toContain("src/agent/enroll.ts");
  for (const server of serverPackages) expect(bundled).not.toContain(server);
  expect([...bundled].filter((m) => /^src\/(app|store|ca|registry|http|cli)[/.]/.test(m))).toEqual([]);
  const help = await promisify(execFile)(process.execPath, [agentBin, "--help"]);
  expect(help.stdout).toMatch(/^usage: keyfleet-agent/);
});

test("a command on PostgreSQL runs from the bundle", async () => {
  const url = inject("postgresUrl");
  const schema = `kf_built_cli_${randomBytes(4).toString("hex")}`;
  await adminQuery(url, `create schema ${schema}`);
  const data = await mkdtemp(join(tmpdir(), "keyfleet-built-cli-"));
  try {
    const u = new URL(url);
    u.searchParams.set("options", `-c search_path=${schema}`);
    const env = { DATABASE_URL: u.toString(), KEYFLEET_PASSPHRASE: "built cli test passphrase" };
    const init = await keyfleet(["--data", data, "init"], env, bin);
    expect(init.stderr).toBe("");
    expect(init.code).toBe(0);
    const listed = await keyfleet(["--data", data, "--json", "ca", "list"], env, bin);
    expect(listed.stderr).toBe("");
    expect((JSON.parse(listed.stdout) as { kind: string }[]).map((c) => c.kind).sort()).toEqual([
      "intermediate",
      "root",
    ]);
  } finally {
    await adminQuery(url, `drop schema ${schema} cascade`);
    await rm(data, { recursive: true, force: true });
  }
});

test("keyfleet serve runs from the bundle on PGlite and issues through its CSR workers", async () => {
  const data = join(dir.path, "data");
  const server = await keyfleetServe(
    ["--data", data, "--https-port", "0", "--http-port", "0", "--public-url", "http://pki.example.test"],
    {},
    root,
    bin,
  );
  try {
    // Through the control socket: the server's app verifies the CSR on a worker thread (a worker
    // that cannot start fails the request with `unavailable`; there is no fallback to hide it).
    const device = await keyfleet(
      ["--data", data, "device", "register", "--serial", "SN-B1", "--model", "m"],
      {},
      bin,
    );
    expect(device.stderr).toBe("");
    await dir.write("device.csr", await opensslCsr(dir, "p256", "/CN=SN-B1"));
    const issued = await keyfleet(
      ["--data", data, "cert", "issue", "--csr", dir.file("device.csr"), "--device", device.stdout.trim()],
      {},
      bin,
    );
    expect(issued.stderr).toBe("");
    expect(issued.code).toBe(0);
    const subject = await openssl(["x509", "-noout", "-subject"], issued.stdout);
    expect(subject.stdout).toMatch(/CN = SN-B1/);

    // The bundled HTTP server answers too.
    const adminUrl = /admin API\s+(https:\/\/\S+?)\/api\/v1\//.exec(server.banner)![1]!;
    const ca = await readFile(join(data, "ca-chain.pem"), "utf8");
    const openapi = await new Promise<string>((resolve, reject) => {
      request(`${adminUrl}/openapi.json`, { ca }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve(body));
      })
        .on("error", reject)
        .end();
    });
    expect((JSON.parse(openapi) as { info: { title: string } }).info.title).toBe("Keyfleet admin API");

    // The bundled agent enrolls a device with a bootstrap token over EST, and renews it.
    const sensor = await keyfleet(["--data", data, "device", "register", "--serial", "SN-B2"], {}, bin);
    const id = sensor.stdout.trim();
    const bootstrap = await keyfleet(
      ["--data", data, "--json", "bootstrap", "create", "--device", id],
      {},
      bin,
    );
    expect(bootstrap.stderr).toBe("");
    const { token } = JSON.parse(bootstrap.stdout) as { token: string };
    const agent = (args: string[]) =>
      promisify(execFile)(process.execPath, [agentBin, ...args, "--state", dir.file("agent")]);
    const enrolled = await agent([
      "enroll",
      "--server",
      adminUrl,
      "--device",
      id,
      "--token",
      token,
      "--ca-bundle",
      join(data, "ca-chain.pem"),
    ]);
    expect(enrolled.stdout).toContain("confirmed: yes, in use");
    expect((await agent(["renew"])).stdout).toContain("confirmed: yes, in use");
    const shown = await keyfleet(["--data", data, "--json", "device", "show", id], {}, bin);
    expect((JSON.parse(shown.stdout) as { state: string }).state).toBe("active");

    // And the bundled CLI runs a small fleet of them.
    const fleet = await keyfleet(["--data", data, "--json", "simulate", "--devices", "5"], {}, bin);
    expect(fleet.stderr).toBe("");
    expect((JSON.parse(fleet.stdout) as { failures: unknown[] }).failures).toEqual([]);
  } finally {
    await stop(server.child);
  }
});
