/**
 * The README's tour, literally: a fresh data directory, `keyfleet serve` running (what `npm start`
 * runs) on free ports, and every shell block of "A five-minute tour" pasted in order into one bash,
 * as a newcomer's second shell would run them. The tour finds the server's addresses itself
 * (`keyfleet config show`), so it holds for any ports. `keyfleet` on the tour's PATH runs this
 * checkout's source, so the test never runs a stale build.
 */
import { spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, test } from "vitest";
import { keyfleetServe, stop } from "./support/cli.js";

const root = fileURLToPath(new URL("..", import.meta.url));

/** The ```sh blocks of one README section. */
function shellBlocks(readme: string, heading: string): string[] {
  const start = readme.indexOf(`## ${heading}\n`);
  expect(start, `README has a "## ${heading}" section`).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

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

function bash(
  script: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn("bash", ["-c", script], { cwd, env });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    child.once("exit", (code) => resolve({ code: code ?? 1, output }));
  });
}

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "keyfleet-readme-"));
  // What the project directory gives the tour: bin/keyfleet (here: this checkout's source, through tsx).
  await mkdir(join(home, "bin"));
  const loader = new URL("../node_modules/tsx/dist/loader.mjs", import.meta.url).href;
  await writeFile(
    join(home, "bin", "keyfleet"),
    `#!/bin/sh\nexec "${process.execPath}" --import "${loader}" "${root}src/cli/entry.ts" "$@"\n`,
  );
  await chmod(join(home, "bin", "keyfleet"), 0o755);
});
afterAll(() => rm(home, { recursive: true, force: true }));

test("the README tour runs as written beside a running server", async () => {
  const blocks = shellBlocks(await readFile(join(root, "README.md"), "utf8"), "A five-minute tour");
  expect(blocks.length).toBeGreaterThanOrEqual(3);
  // A clean environment: nothing of this machine's Keyfleet settings leaks into the tour.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(KEYFLEET_|DATABASE_URL)/.test(k)),
  );
  const ports = {
    KEYFLEET_HTTPS_PORT: String(await freePort()),
    KEYFLEET_HTTP_PORT: String(await freePort()),
  };
  const server = await keyfleetServe([], { ...env, ...ports }, home);
  let run: { code: number; output: string };
  try {
    expect(server.banner).toContain("first admin token");
    const script = ["set -euo pipefail", ...blocks.map((b, i) => `echo "### block ${i + 1}"\n${b}`)].join(
      "\n",
    );
    run = await bash(script, home, env);
  } finally {
    await stop(server.child);
  }
  expect(run.output).not.toMatch(/^keyfleet: /m); // no command failed or warned
  expect(run.code, run.output).toBe(0);
  const out = run.output;
  expect(out).toMatch(/public-url\s+http:\/\/127\.0\.0\.1:\d+/);
  expect(out).toContain('"status":"ready"');
  expect(out).toMatch(/ca-[0-9a-f]+\s+intermediate\s+p256/);
  expect(out).toContain("device.pem: OK");
  expect(out).toMatch(/subject\s+CN=SN-0001, serialNumber=SN-0001/);
  expect(out).toMatch(/v2\s+issue\s+registered → provisioned\s+by cli:/);
  expect(out).toMatch(/^1 device matches; a sample:/m);
  expect(out).toMatch(/retire\s+done\s+1\/1 \(1 applied, 0 refused\)/);
  expect(out).toMatch(/finalize\s+decommissioning → decommissioned/);
  expect(out).toContain("the bearer token was revoked");
  expect(out).toContain("Keyfleet admin API");
  expect(out).toMatch(/^keyfleet_certificates_issued_total\{profile="device",outcome="issued"\} 1$/m);
  expect(out).toMatch(/subject=O = Keyfleet, CN = Keyfleet (Issuing|Root) CA/);
  expect(out).toMatch(/re-sealed \d+ keys under KEYFLEET_PASSPHRASE/);
  expect(out).toMatch(/subject=CN = SN-0001, serialNumber = SN-0001\s*### block/);
  expect(out).toMatch(
    /^audit log verified: \d+ entries, \d+ checkpoints signed by 127\.0\.0\.1:\d+\/keyfleet\/audit\//m,
  );
  expect(out).toMatch(
    /^entry \d+ of \d+: \{"actor":"cli:[^"]+","details":\{[^\n]*"type":"certificate\.issued"/m,
  );
  expect(out).toMatch(/^applied: version 1 .* sensors: 90 days$/m);
  expect(out).toContain("-    validityDays: 90\n+    validityDays: 30\n");
  expect(out).toContain("sensor.pem: OK"); // enrolled over EST with a bootstrap token
  expect(out).toMatch(/^401$/m); // the token's second use
  expect(out).toMatch(/^active$/m); // confirmed by its first request with the certificate
  expect(out).toMatch(/^[0-9A-F]+ {2}revoked \(keyCompromise\) since \S+$/m);
  expect(out).toMatch(/lookup: certificate revoked\n[^\n]*\n?refused$/m); // openssl read the served CRL
  // kek seal removed the development KEK file; the server kept working under the passphrase.
  await expect(stat(join(home, "keyfleet-data", "kek"))).rejects.toMatchObject({ code: "ENOENT" });
});
