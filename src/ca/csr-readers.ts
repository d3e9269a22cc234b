/**
 * Where CSRs are parsed and their proof of possession verified. Verifying is the costliest step of
 * issuance: importing the device's public key and checking its signature take ≈ 110 µs of CPU,
 * against ≈ 20 µs to sign the certificate. A server therefore verifies on worker threads and keeps
 * the event loop for signing and committing; a command that issues one certificate and exits
 * parses in-process, where starting a worker would cost more than the CSR.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { KeyfleetError, type ErrorCode } from "../domain/index.js";
import { parseCsr, type ParsedCsr } from "../pki/index.js";

export interface CsrReader {
  /** `parseCsr`: the parsed request, or the same KeyfleetError (code and message) it would throw. */
  read(der: Uint8Array): Promise<ParsedCsr>;
  close(): Promise<void>;
}

/** Parses on the calling thread. */
export const inlineCsrReader: CsrReader = {
  read: async (der) => parseCsr(der),
  close: async () => {},
};

/** What travels to a worker, and back. */
export interface CsrJob {
  readonly id: number;
  readonly der: Uint8Array;
}
export type CsrAnswer =
  | { readonly id: number; readonly csr: Omit<ParsedCsr, "der">; readonly error?: undefined }
  | { readonly id: number; readonly error: { readonly code: ErrorCode; readonly message: string } };

interface Pending {
  readonly der: Uint8Array;
  readonly resolve: (csr: ParsedCsr) => void;
  readonly reject: (error: unknown) => void;
}

interface Lane {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
}

/**
 * A pool of `size` worker threads (default: one per core), started at the first request. Requests
 * made in one turn of the event loop travel together, one message per worker, to the least busy
 * workers. A worker that dies fails its own requests with `internal` and is replaced on demand.
 * An idle pool does not keep the process alive.
 */
export function workerCsrReader(size = availableParallelism()): CsrReader {
  const lanes: (Lane | undefined)[] = Array.from({ length: Math.max(1, size) });
  let queue: (CsrJob & Pending)[] = [];
  let nextId = 0;
  let closed = false;

  const spawn = (index: number): Lane => {
    const lane: Lane = { worker: startWorker(), pending: new Map() };
    const fail = (cause: unknown) => {
      if (lanes[index] === lane) lanes[index] = undefined;
      for (const p of lane.pending.values()) {
        p.reject(
          new KeyfleetError("internal", "the CSR could not be verified (worker stopped); retry", { cause }),
        );
      }
      lane.pending.clear();
    };
    lane.worker.unref();
    lane.worker.on("message", (answers: readonly CsrAnswer[]) => {
      for (const a of answers) {
        const p = lane.pending.get(a.id);
        lane.pending.delete(a.id);
        if (a.error) p?.reject(new KeyfleetError(a.error.code, a.error.message));
        else p?.resolve({ ...a.csr, der: p.der });
      }
      if (lane.pending.size === 0) lane.worker.unref();
    });
    lane.worker.on("error", fail);
    lane.worker.on("exit", (code) => fail(new Error(`CSR worker exited with code ${code}`)));
    return lane;
  };

  const flush = (): void => {
    const jobs = queue;
    queue = [];
    // All workers start together, at the first request: a pool that warms one worker at a time
    // makes the first burst wait on each start (≈ 50 ms compiled, ≈ 300 ms through tsx).
    lanes.forEach((lane, index) => (lanes[index] = lane ?? spawn(index)));
    const byLoad = lanes
      .map((_, i) => i)
      .sort((a, b) => (lanes[a]?.pending.size ?? 0) - (lanes[b]?.pending.size ?? 0));
    const share = Math.ceil(jobs.length / lanes.length);
    for (let k = 0; k * share < jobs.length; k++) {
      const index = byLoad[k]!;
      const lane = lanes[index]!;
      const batch = jobs.slice(k * share, (k + 1) * share);
      if (lane.pending.size === 0) lane.worker.ref(); // work under way keeps the process alive
      for (const job of batch) lane.pending.set(job.id, job);
      lane.worker.postMessage(batch.map(({ id, der }): CsrJob => ({ id, der })));
    }
  };

  return {
    read(der) {
      if (closed) return Promise.reject(new KeyfleetError("internal", "the authority is shutting down"));
      return new Promise<ParsedCsr>((resolve, reject) => {
        if (queue.length === 0) setImmediate(flush);
        queue.push({ id: nextId++, der, resolve, reject });
      });
    },
    async close() {
      closed = true;
      await Promise.all(lanes.map((lane) => lane?.worker.terminate()));
    },
  };
}

/**
 * Compiled (dist/), the worker is a plain module. Run from TypeScript sources (tests, the bench),
 * it starts through tsx's loader, which a worker does not inherit from the parent's `--import tsx`.
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith(".ts")) return new Worker(new URL("./csr-worker.js", import.meta.url));
  const tsx = import.meta.resolve("tsx/esm/api");
  const source = new URL("./csr-worker.ts", import.meta.url).href;
  const boot = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(boot, { eval: true });
}
