/**
 * The OCSP bench's load generator, run in a child process (bench/ocsp-bench.ts forks it) so that
 * it does not share the responder's event loop. `concurrency` connections, each with one request
 * in flight (no pipelining): an RFC 5019 POST of one DER request (no nonce, so the responder may
 * answer from its cache), kept alive while the server keeps the connection open, a new
 * connection when it closes it (openssl's responder closes after each answer); the connect time
 * is then part of that request's latency. An answer counts only when it is HTTP 200 with OCSP
 * status successful.
 *
 * Each request is written as pre-built bytes and each response read off the socket with a small
 * HTTP/1.x response reader (status line, Content-Length, Connection), not node:http's client: at
 * tens of thousands of requests per second on a shared 2-core machine, node:http's client costs
 * more CPU per request than the responder it measures, and it would be the bottleneck.
 */
import { connect, type Socket } from "node:net";
import { performance } from "node:perf_hooks";

export interface OcspClientJob {
  /** http://host:port of the responder; requests go to /ocsp (openssl's responder answers any path). */
  readonly url: string;
  readonly concurrency: number;
  /** The requests, base64 of their DER, sent round-robin. */
  readonly requests: readonly string[];
  readonly warmup: number;
  readonly total: number;
}

export interface OcspClientResult {
  readonly answered: number;
  readonly failures: number;
  readonly firstFailure: string | undefined;
  readonly seconds: number;
  /** Latency of each successful answer, ms, sorted. */
  readonly latenciesMs: readonly number[];
}

/** OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED … }: the status octet after the header. */
export function successful(body: Buffer): boolean {
  if (body.length < 5 || body[0] !== 0x30) return false;
  const at = body[1]! & 0x80 ? 2 + (body[1]! & 0x7f) : 2;
  return body[at] === 0x0a && body[at + 1] === 1 && body[at + 2] === 0;
}

/** One HTTP/1.1 POST /ocsp, as bytes. */
function postOf(url: URL, body: Buffer): Buffer {
  const head =
    `POST /ocsp HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/ocsp-request\r\n` +
    `Content-Length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), body]);
}

export interface ParsedResponse {
  readonly status: number;
  readonly body: Buffer;
  /** The server will close the connection after this response. */
  readonly closes: boolean;
  /** Octets of `data` this response took. */
  readonly length: number;
}

const endOfHead = Buffer.from("\r\n\r\n");

/** The first whole response in `data`, or undefined if it has not all arrived (or the server closes to end it). */
export function parseResponse(data: Buffer, ended: boolean): ParsedResponse | undefined {
  const headEnd = data.indexOf(endOfHead);
  if (headEnd < 0) return undefined;
  const head = data.toString("latin1", 0, headEnd);
  const status = Number(head.slice(9, 12));
  const lengthHeader = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  const http10 = head.startsWith("HTTP/1.0");
  const connection = /\r\nconnection:\s*([\w-]+)/i.exec(head)?.[1]?.toLowerCase();
  const closes = connection === "close" || (http10 && connection !== "keep-alive");
  const start = headEnd + 4;
  if (!lengthHeader && /\r\ntransfer-encoding:/i.test(head)) {
    throw new Error("a response without Content-Length (chunked) is not read by this load generator");
  }
  if (!lengthHeader) {
    // No length: the body runs to the end of the connection (RFC 9112 §6.3).
    return ended ? { status, body: data.subarray(start), closes: true, length: data.length } : undefined;
  }
  const end = start + Number(lengthHeader[1]);
  if (data.length < end) return undefined;
  return { status, body: data.subarray(start, end), closes, length: end };
}

/** One connection at a time for one client slot: asks, reads the answer, reconnects when the server closes. */
class Connection {
  #socket: Socket | undefined;
  #data: Buffer = Buffer.alloc(0);
  #waiting: ((r: ParsedResponse | Error) => void) | undefined;
  #closes = false;

  constructor(private readonly url: URL) {}

  async ask(request: Buffer): Promise<string | undefined> {
    if (!this.#socket || this.#closes) await this.#open();
    const answer = await new Promise<ParsedResponse | Error>((resolve) => {
      this.#waiting = resolve;
      this.#socket!.write(request);
    });
    if (answer instanceof Error) {
      this.#socket = undefined;
      return answer.message;
    }
    this.#closes = answer.closes;
    if (answer.closes) this.#drop();
    if (answer.status !== 200) return `HTTP ${answer.status}`;
    return successful(answer.body) ? undefined : "an unsuccessful OCSP status";
  }

  close(): void {
    this.#drop();
  }

  #open(): Promise<void> {
    this.#drop();
    this.#closes = false;
    this.#data = Buffer.alloc(0);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(this.url.port), this.url.hostname);
      socket.setNoDelay(true);
      socket.once("connect", () => resolve());
      socket.on("data", (chunk: Buffer) => this.#received(chunk, false));
      socket.once("end", () => this.#received(Buffer.alloc(0), true));
      socket.on("error", (e) => {
        reject(e);
        this.#answer(e);
      });
      socket.once("close", () => {
        this.#closes = true; // the next request opens a new connection
        this.#answer(new Error("the server closed the connection"));
      });
      this.#socket = socket;
    });
  }

  #received(chunk: Buffer, ended: boolean): void {
    this.#data = this.#data.length ? Buffer.concat([this.#data, chunk]) : chunk;
    let parsed: ParsedResponse | undefined;
    try {
      parsed = parseResponse(this.#data, ended);
    } catch (e) {
      this.#closes = true;
      this.#answer(e as Error);
      return;
    }
    if (!parsed) return;
    this.#data = this.#data.subarray(parsed.length);
    this.#answer(parsed);
  }

  #answer(r: ParsedResponse | Error): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.(r);
  }

  #drop(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket) {
      socket.removeAllListeners();
      socket.on("error", () => {});
      socket.destroy();
    }
  }
}

/** Connects and warms up (`job.warmup` requests, one at a time); `run` then sends `job.total` with `job.concurrency` in flight. */
export async function prepareOcspClients(job: OcspClientJob): Promise<{ run(): Promise<OcspClientResult> }> {
  const url = new URL(job.url);
  const posts = job.requests.map((r) => postOf(url, Buffer.from(r, "base64")));
  const connections = Array.from({ length: job.concurrency }, () => new Connection(url));
  for (let i = 0; i < job.warmup; i++) {
    const failed = await connections[i % connections.length]!.ask(posts[i % posts.length]!);
    if (failed) throw new Error(`warm-up request failed: ${failed}`);
  }
  return {
    async run() {
      const latencies: number[] = [];
      let failures = 0;
      let firstFailure: string | undefined;
      let next = 0;
      const start = performance.now();
      const client = async (connection: Connection) => {
        while (next < job.total) {
          const post = posts[next++ % posts.length]!;
          const t0 = performance.now();
          const failed = await connection.ask(post);
          if (failed === undefined) latencies.push(performance.now() - t0);
          else {
            failures++;
            firstFailure ??= failed;
          }
        }
      };
      await Promise.all(connections.map(client));
      const seconds = (performance.now() - start) / 1000;
      for (const c of connections) c.close();
      latencies.sort((a, b) => a - b);
      return { answered: latencies.length, failures, firstFailure, seconds, latenciesMs: latencies };
    },
  };
}

/**
 * Forked by ocsp-bench.ts: a job in; "ready" out once warmed up; on "go", the timed run, its
 * result out, then exit. Several such processes start their timed runs together.
 */
if (process.send) {
  const fail = (e: unknown) =>
    process.send!({ error: String((e as Error).stack ?? e) }, () => process.exit(1));
  process.once("message", (job: OcspClientJob) => {
    prepareOcspClients(job).then((clients) => {
      process.once("message", () =>
        clients.run().then((result) => process.send!({ result }, () => process.exit(0)), fail),
      );
      process.send!({ ready: true });
    }, fail);
  });
}
