/**
 * The control socket's protocol against hostile or clumsy clients: a partial request, a request
 * split inside a UTF-8 character, wrong shapes, and a shutdown with connections still open.
 */
import { createConnection, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { listenControlSocket, type ControlListener } from "../src/cli/control-server.js";
import { ensureInitialized } from "../src/first-run.js";
import { testApp, type TestApp } from "./support/app.js";

function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path, () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Everything the server sends until it closes the connection. */
function answerOf(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (c: string) => (text += c));
    socket.once("close", () => resolve(text));
  });
}

async function send(path: string, ...chunks: (string | Buffer)[]): Promise<unknown> {
  const socket = await connect(path);
  const answer = answerOf(socket);
  for (const chunk of chunks) {
    socket.write(chunk);
    await new Promise((r) => setTimeout(r, 20));
  }
  return JSON.parse(await answer);
}

describe("control socket [pglite]", () => {
  let t: TestApp;
  let control: ControlListener;
  beforeAll(async () => {
    t = await testApp("pglite");
    await ensureInitialized(t.app, { algorithm: "p256" });
    control = (await listenControlSocket(t.app, { actor: "test" }))!;
  });
  afterAll(async () => {
    await control?.close();
    await t?.dispose();
  });

  test("a request that ends before its newline is answered malformed-request, not left open", async () => {
    const socket = await connect(control.path);
    const answer = answerOf(socket);
    socket.end('{"v":1,"operation":"ca.list"');
    expect(JSON.parse(await answer)).toMatchObject({ ok: false, code: "malformed-request" });
  });

  test("a request split inside a UTF-8 character arrives whole", async () => {
    const line = Buffer.from(
      JSON.stringify({
        v: 1,
        operation: "token.create",
        input: { role: "auditor", scopes: [], description: "Café ✓", ttlSeconds: 3600 },
      }) + "\n",
    );
    const cut = line.indexOf(Buffer.from("é")) + 1; // between the two bytes of é
    const answer = (await send(control.path, line.subarray(0, cut), line.subarray(cut))) as {
      ok: boolean;
      output: { description: string };
    };
    expect(answer).toMatchObject({ ok: true, output: { description: "Café ✓" } });
  });

  test.each([
    ["no operation", { v: 1 }],
    ["an unknown operation", { v: 1, operation: "toString", input: {} }],
    ["an array as input", { v: 1, operation: "ca.list", input: [] }],
    ["another protocol version", { v: 2, operation: "ca.list", input: {} }],
    ["null", null],
  ])("refuses %s with malformed-request", async (_name, request) => {
    expect(await send(control.path, JSON.stringify(request) + "\n")).toMatchObject({
      ok: false,
      code: "malformed-request",
    });
  });

  test("a shutdown does not wait for a client that never finishes its request", async () => {
    const other = (await listenControlSocket(t.app, { actor: "test" }))!; // replaces the socket file
    const idle = await connect(other.path);
    const closed = answerOf(idle);
    await other.close(); // resolves although the client sent nothing
    await closed;
    control = (await listenControlSocket(t.app, { actor: "test" }))!;
    expect(
      await send(control.path, JSON.stringify({ v: 1, operation: "ca.list", input: {} }) + "\n"),
    ).toMatchObject({
      ok: true,
    });
  });
});
