/**
 * The OCSP bench's load generator, run in a child process (bench/ocsp-bench.ts forks it) so that
 * it does not share the responder's event loop. Keep-alive connections, `concurrency` requests in
 * flight, each an RFC 5019 POST of one DER request (no nonce, so the responder may answer from its
 * cache); an answer counts only when it is HTTP 200 with OCSP status successful.
 */
import { Agent, request } from "node:http";
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
function successful(body: Buffer): boolean {
  if (body.length < 5 || body[0] !== 0x30) return false;
  const at = body[1]! & 0x80 ? 2 + (body[1]! & 0x7f) : 2;
  return body[at] === 0x0a && body[at + 1] === 1 && body[at + 2] === 0;
}

function askOnce(url: URL, agent: Agent, body: Buffer): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: "/ocsp",
        method: "POST",
        agent,
        headers: { "content-type": "application/ocsp-request", "content-length": body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (e) => resolve(e.message));
        res.on("end", () => {
          if (res.statusCode !== 200) return resolve(`HTTP ${res.statusCode}`);
          resolve(successful(Buffer.concat(chunks)) ? undefined : "an unsuccessful OCSP status");
        });
      },
    );
    req.on("error", (e) => resolve(e.message));
    req.end(body);
  });
}

export async function runOcspClients(job: OcspClientJob): Promise<OcspClientResult> {
  const url = new URL(job.url);
  const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency });
  const bodies = job.requests.map((r) => Buffer.from(r, "base64"));
  for (let i = 0; i < job.warmup; i++) {
    const failed = await askOnce(url, agent, bodies[i % bodies.length]!);
    if (failed) throw new Error(`warm-up request failed: ${failed}`);
  }
  const latencies: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  let next = 0;
  const start = performance.now();
  const client = async () => {
    while (next < job.total) {
      const body = bodies[next++ % bodies.length]!;
      const t0 = performance.now();
      const failed = await askOnce(url, agent, body);
      if (failed === undefined) latencies.push(performance.now() - t0);
      else {
        failures++;
        firstFailure ??= failed;
      }
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, client));
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { answered: latencies.length, failures, firstFailure, seconds, latenciesMs: latencies };
}

// Forked by ocsp-bench.ts: one job in, one result out, then exit.
if (process.send) {
  process.once("message", (job: OcspClientJob) => {
    runOcspClients(job).then(
      (result) => process.send!({ result }, () => process.exit(0)),
      (e: unknown) => process.send!({ error: String((e as Error).stack ?? e) }, () => process.exit(1)),
    );
  });
}
