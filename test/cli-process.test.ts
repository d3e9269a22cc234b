/**
 * What only a real `keyfleet` process shows: exit codes, results on stdout and the one failure line
 * on stderr, help on stdout with exit 0, and a command forwarded to a running server end to end.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { keyfleet, keyfleetServe, stop } from "./support/cli.js";

let data: string;
beforeAll(async () => {
  data = join(await mkdtemp(join(tmpdir(), "keyfleet-process-")), "data");
});
afterAll(() => rm(join(data, ".."), { recursive: true, force: true }));

test("help is output: stdout, exit 0", async () => {
  const res = await keyfleet(["--help"]);
  expect(res).toMatchObject({ code: 0, stderr: "" });
  expect(res.stdout).toMatch(/^Usage: keyfleet/);
  const group = await keyfleet(["cert"]);
  expect(group).toMatchObject({ code: 0, stderr: "" });
  expect(group.stdout).toMatch(/^Usage: keyfleet cert/);
});

test("a failure is one line on stderr, nothing on stdout, exit 1", async () => {
  expect(await keyfleet(["cert", "issue", "--cssr", "x"])).toEqual({
    code: 1,
    stdout: "",
    stderr: "keyfleet: unknown option '--cssr'; did you mean --csr? (malformed-request)\n",
  });
  expect(await keyfleet(["--data", data, "ca", "list"])).toMatchObject({
    code: 1,
    stdout: "",
    stderr: expect.stringMatching(/^keyfleet: no Keyfleet data in .*\(not-initialized\)\n$/),
  });
});

test("beside a running server, a command goes through it; after it stops, the CLI opens the database itself", async () => {
  const server = await keyfleetServe([
    "--data",
    data,
    "--https-port",
    "0",
    "--http-port",
    "0",
    "--public-url",
    "http://pki.example.test",
  ]);
  let token: string;
  try {
    const created = await keyfleet(["--data", data, "token", "create", "--role", "auditor"]);
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    token = created.stdout.trim();
    expect(token).toMatch(/^kf_/);
  } finally {
    await stop(server.child);
  }
  const listed = await keyfleet(["--data", data, "--json", "token", "list"]);
  expect(listed.code).toBe(0);
  expect((JSON.parse(listed.stdout) as { items: unknown[] }).items).toHaveLength(2); // first admin + this one
});
