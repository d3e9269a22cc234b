/**
 * The EST bench's load generator, run in a child process (bench/est-bench.ts forks it) so that the
 * clients' TLS work does not share the server's event loop. Each enrollment is a device of its own:
 * a new TLS connection (no agent, no session to resume) presenting the device's IDevID as client
 * certificate, POST simpleenroll with its base64 PKCS#10, and an answer that must read as certs-only
 * CMS with one certificate. The parent sends one EstClientJob and gets one EstClientResult back.
 */
import { request, type RequestOptions } from "node:https";
import { performance } from "node:perf_hooks";
import { createSecureContext, type SecureContext } from "node:tls";
import { readCertsOnly } from "../src/pki/index.js";

export interface EstDevice {
  /** The IDevID and its private key, PEM. */
  readonly cert: string;
  readonly key: string;
  /** The CSR, base64 of its DER. */
  readonly csr: string;
}

export interface EstClientJob {
  /** https://host:port of the server. */
  readonly url: string;
  /** The authority's chain, PEM: the server's certificate validates to it. */
  readonly ca: string;
  readonly concurrency: number;
  /** Enrolled before the clock starts (connections, JIT, the server's workers warm). */
  readonly warmup: readonly EstDevice[];
  readonly devices: readonly EstDevice[];
}

export interface EstClientResult {
  readonly enrolled: number;
  readonly failures: number;
  /** What the first failure said, if any. */
  readonly firstFailure: string | undefined;
  readonly seconds: number;
  /** This process's CPU time (user + system) during the timed enrollments, ms. */
  readonly cpuMs: number;
  /** Latency of each successful enrollment, ms, sorted. */
  readonly latenciesMs: readonly number[];
}

type Prepared = { readonly context: SecureContext; readonly body: string };

/** One enrollment on a new connection; resolves with what went wrong, or undefined. */
function enrollOnce(url: URL, device: Prepared): Promise<string | undefined> {
  return new Promise((resolve) => {
    // https.request hands its options to tls.connect, secureContext included (not in its type).
    const options: RequestOptions & { secureContext: SecureContext } = {
      host: url.hostname,
      port: url.port,
      path: "/.well-known/est/simpleenroll",
      method: "POST",
      agent: false, // a new connection per device, as a fleet's first contact is
      secureContext: device.context,
      headers: {
        "content-type": "application/pkcs10",
        "content-length": Buffer.byteLength(device.body),
        connection: "close",
      },
    };
    const req = request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", (e) => resolve(e.message));
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("latin1");
        if (res.statusCode !== 200) return resolve(`HTTP ${res.statusCode}: ${body.trim()}`);
        if (!String(res.headers["content-type"]).startsWith("application/pkcs7-mime"))
          return resolve(`content type ${res.headers["content-type"]}`);
        try {
          const certificates = readCertsOnly(new Uint8Array(Buffer.from(body, "base64")));
          resolve(certificates.length === 1 ? undefined : `${certificates.length} certificates`);
        } catch (e) {
          resolve(`answer not certs-only: ${(e as Error).message}`);
        }
      });
    });
    req.on("error", (e) => resolve(e.message));
    req.end(device.body);
  });
}

export async function runEstClients(job: EstClientJob): Promise<EstClientResult> {
  const url = new URL(job.url);
  const prepare = (d: EstDevice): Prepared => ({
    context: createSecureContext({ cert: d.cert, key: d.key, ca: job.ca }),
    body: d.csr,
  });
  // Keys and certificates parsed before the clock starts: a device has its own at hand.
  const warmup = job.warmup.map(prepare);
  const devices = job.devices.map(prepare);
  for (const d of warmup) {
    const failed = await enrollOnce(url, d);
    if (failed) throw new Error(`warm-up enrollment failed: ${failed}`);
  }
  const latencies: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  let next = 0;
  const start = performance.now();
  const cpu = process.cpuUsage();
  const client = async () => {
    while (next < devices.length) {
      const device = devices[next++]!;
      const t0 = performance.now();
      const failed = await enrollOnce(url, device);
      if (failed === undefined) latencies.push(performance.now() - t0);
      else {
        failures++;
        firstFailure ??= failed;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(job.concurrency, devices.length) }, client));
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  const cpuMs = (used.user + used.system) / 1000;
  return { enrolled: latencies.length, failures, firstFailure, seconds, cpuMs, latenciesMs: latencies };
}

// Forked by est-bench.ts: one job in, one result out, then exit.
if (process.send) {
  process.once("message", (job: EstClientJob) => {
    runEstClients(job).then(
      (result) => process.send!({ result }, () => process.exit(0)),
      (e: unknown) => process.send!({ error: String((e as Error).stack ?? e) }, () => process.exit(1)),
    );
  });
}
