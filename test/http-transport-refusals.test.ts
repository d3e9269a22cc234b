/**
 * Answers that come from no route (issue 13, defect 8) are problem+json like every other error,
 * on both listeners: header fields too large (431), bytes that are not HTTP (400), a chunk
 * extension too long (413), an HTTP/1.1 request without Host (400), an Expect the server cannot
 * meet (417), a request that arrives while the server closes (503). Sent as raw bytes, since no
 * HTTP client sends them.
 */
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ensureInitialized } from "../src/first-run.js";
import { buildHttpApp, startServers, type RunningServers } from "../src/http/index.js";
import { testApp, type TestApp } from "./support/app.js";

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Sends `bytes` as they are, and reads every response until the server closes (or 5 s pass). */
function exchange(url: string, ...chunks: (string | (() => Promise<void>))[]): Promise<RawResponse[]> {
  const { protocol, hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const onConnect = async () => {
      for (const chunk of chunks) {
        if (typeof chunk === "string") socket.write(chunk);
        else await chunk();
      }
    };
    const socket: Socket =
      protocol === "https:"
        ? tlsConnect({ host: hostname, port: Number(port), rejectUnauthorized: false }, onConnect)
        : netConnect({ host: hostname, port: Number(port) }, onConnect);
    let text = "";
    const timer = setTimeout(() => socket.end(), 5000);
    socket.on("data", (c: Buffer) => (text += c.toString("latin1")));
    socket.on("error", () => undefined); // the server may reset after answering
    socket.on("close", () => {
      clearTimeout(timer);
      try {
        resolve(parseResponses(text));
      } catch (e) {
        reject(e);
      }
    });
  });
}

function parseResponses(text: string): RawResponse[] {
  const responses: RawResponse[] = [];
  let rest = text;
  while (rest.length > 0) {
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) throw new Error(`not an HTTP response: ${JSON.stringify(rest.slice(0, 200))}`);
    const [statusLine, ...lines] = rest.slice(0, end).split("\r\n");
    const headers = Object.fromEntries(
      lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
    );
    rest = rest.slice(end + 4);
    let body = "";
    if (headers["content-length"] !== undefined) {
      const length = Number(headers["content-length"]);
      body = rest.slice(0, length);
      rest = rest.slice(length);
    } else if (headers["transfer-encoding"] === "chunked") {
      for (;;) {
        const lineEnd = rest.indexOf("\r\n");
        const size = Number.parseInt(rest.slice(0, lineEnd), 16);
        rest = rest.slice(lineEnd + 2);
        body += rest.slice(0, size);
        rest = rest.slice(size + 2);
        if (size === 0) break;
      }
    }
    responses.push({ status: Number(statusLine!.split(" ")[1]), headers, body });
  }
  return responses;
}

function expectProblem(response: RawResponse | undefined, status: number, detail?: RegExp): void {
  expect(response, "an answer").toBeDefined();
  expect(response!.status, response!.body).toBe(status);
  expect(response!.headers["content-type"]).toMatch(/^application\/problem\+json/);
  const problem = JSON.parse(response!.body) as Record<string, unknown>;
  expect(problem).toMatchObject({
    status,
    code: expect.any(String),
    type: `/problems/${String(problem.code)}`,
  });
  if (detail) expect(problem.detail).toMatch(detail);
}

describe("answers from no route [pglite]", () => {
  let t: TestApp;
  let servers: RunningServers;

  beforeAll(async () => {
    t = await testApp("pglite", { config: { httpsPort: 0, httpPort: 0 } });
    await ensureInitialized(t.app, { algorithm: "p256" });
    servers = await startServers(t.app);
  });
  afterAll(async () => {
    await servers?.close();
    await t?.dispose();
  });

  const urls = () => [servers.httpsUrl, servers.httpUrl];

  test("header fields too large: 431", async () => {
    for (const url of urls()) {
      const [answer] = await exchange(
        url,
        `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
      );
      expectProblem(answer, 431, /larger than the server accepts/);
      expect(answer!.body).not.toContain("aaaa");
    }
  });

  test("a request line that is not HTTP: 400; a chunk extension too long: 413", async () => {
    for (const url of urls()) {
      expectProblem((await exchange(url, "GARBAGE\r\n\r\n"))[0], 400, /not valid HTTP/);
      expectProblem((await exchange(url, "GET / HTTP/9.9\r\nHost: x\r\n\r\n"))[0], 400);
      const chunked = `POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n1;${"e".repeat(20_000)}\r\n`;
      expectProblem((await exchange(url, chunked))[0], 413, /chunk extension/);
    }
  });

  test("an HTTP/1.1 request without Host: 400 naming the rule", async () => {
    for (const url of urls()) {
      expectProblem((await exchange(url, "GET /healthz HTTP/1.1\r\n\r\n"))[0], 400, /Host/);
    }
  });

  test("an Expect the server cannot meet: 417", async () => {
    for (const url of urls()) {
      const [answer] = await exchange(
        url,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nConnection: close\r\n\r\n",
      );
      expectProblem(answer, 417, /100-continue/);
    }
  });

  test("a request that arrives while the server closes: 503, and the one in flight still completes", async () => {
    const http = await buildHttpApp(t.app, "public");
    let entered!: () => void;
    const inFlight = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    http.get("/slow", async () => {
      entered();
      await gate;
      return { done: true };
    });
    await http.listen({ host: "127.0.0.1", port: 0 });
    const url = `http://127.0.0.1:${(http.server.address() as { port: number }).port}`;
    let closed: Promise<void> | undefined;
    const answers = await exchange(
      url,
      "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n",
      async () => {
        await inFlight;
        closed = http.close();
        await new Promise((r) => setTimeout(r, 100));
      },
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
      async () => {
        await new Promise((r) => setTimeout(r, 200));
        release();
      },
    );
    await closed;
    expect(answers.map((a) => a.status)).toEqual([200, 503]);
    expectProblem(answers[1], 503, /shutting down/);
  });
});
