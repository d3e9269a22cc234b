/**
 * A CsrReader on a pool of worker threads (see csr-reader.ts for why). One worker per core by
 * default: on this 2-core machine, with PostgreSQL on the same cores, 1 worker gave 4,100
 * certificates/s, 2 gave 5,000 and 3 gave 5,300 (before answers were streamed), so the event loop
 * and the workers share the cores better than a pool of N−1.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { KeyfleetError } from "../domain/index.js";
import type { ParsedCsr } from "../pki/index.js";
import type { CsrAnswer, CsrJob, CsrReader } from "./csr-reader.js";

interface Pending {
  readonly resolve: (csr: ParsedCsr) => void;
  readonly reject: (error: unknown) => void;
}

type Queued = CsrJob & Pending;

const unavailable = (message: string, cause?: unknown) =>
  new KeyfleetError("unavailable", message, cause === undefined ? undefined : { cause });

/** One worker and the requests it holds. It keeps the process alive only while it holds some. */
class Lane {
  readonly #pending = new Map<number, Pending>();
  #dead = false;

  constructor(
    readonly worker: Worker,
    private readonly onDeath: (lane: Lane) => void,
  ) {
    worker.on("message", (answers: readonly CsrAnswer[]) => this.#settle(answers));
    worker.on("messageerror", (cause) => this.#die(cause));
    worker.on("error", (cause) => this.#die(cause));
    worker.on("exit", (code) => this.#die(new Error(`CSR worker exited with code ${code}`)));
    worker.unref(); // after the listeners: adding a 'message' listener refs the worker again
  }

  get load(): number {
    return this.#pending.size;
  }

  send(jobs: readonly Queued[]): void {
    if (this.#pending.size === 0) this.worker.ref();
    for (const { id, resolve, reject } of jobs) this.#pending.set(id, { resolve, reject });
    // A copy of exactly the CSR's bytes: a view's whole ArrayBuffer (often Node's shared 8 KiB
    // pool, holding unrelated data) must not travel to another thread.
    const message = jobs.map(({ id, der }): CsrJob => ({ id, der: der.slice() }));
    this.worker.postMessage(
      message,
      message.map((m) => m.der.buffer as ArrayBuffer),
    );
  }

  #settle(answers: readonly CsrAnswer[]): void {
    for (const a of answers) {
      const p = this.#pending.get(a.id);
      this.#pending.delete(a.id);
      if (a.error) p?.reject(new KeyfleetError(a.error.code, a.error.message));
      else p?.resolve(a.csr);
    }
    if (this.#pending.size === 0) this.worker.unref();
  }

  #die(cause: unknown): void {
    if (this.#dead) return;
    this.#dead = true;
    for (const p of this.#pending.values()) {
      p.reject(unavailable("the CSR could not be verified (its worker stopped); retry the request", cause));
    }
    this.#pending.clear();
    this.onDeath(this);
  }
}

/**
 * Workers start together at the first request (one at a time would make the first burst wait on
 * each start: ≈ 50 ms compiled, ≈ 300 ms through tsx). Requests made in one turn of the event loop
 * travel together, shared among the least busy workers. A worker that dies fails its own requests
 * with `unavailable` and is replaced at the next request. An idle pool does not keep the process
 * alive; `start` is for tests.
 */
export function workerCsrReader(size = availableParallelism(), start = startCsrWorker): CsrReader {
  const lanes: (Lane | undefined)[] = Array.from({ length: Math.max(1, size) });
  let queue: Queued[] = [];
  let nextId = 0;
  let closed = false;

  const laneAt = (index: number): Lane =>
    (lanes[index] ??= new Lane(start(), (dead) => {
      if (lanes[index] === dead) lanes[index] = undefined;
    }));

  const flush = (): void => {
    const jobs = queue;
    queue = [];
    if (closed) return; // close() has failed them already
    const ready = lanes.map((_, index) => laneAt(index)).sort((a, b) => a.load - b.load);
    const share = Math.ceil(jobs.length / ready.length);
    ready.forEach((lane, k) => {
      const batch = jobs.slice(k * share, (k + 1) * share);
      if (batch.length > 0) lane.send(batch);
    });
  };

  return {
    read(der) {
      if (closed) return Promise.reject(unavailable("the server is shutting down; retry the request"));
      return new Promise<ParsedCsr>((resolve, reject) => {
        if (queue.length === 0) setImmediate(flush);
        queue.push({ id: nextId++, der, resolve, reject });
      });
    },
    async close() {
      closed = true;
      for (const q of queue) q.reject(unavailable("the server is shutting down; retry the request"));
      queue = [];
      await Promise.all(lanes.map((lane) => lane?.worker.terminate()));
    },
  };
}

/**
 * Compiled (dist/), the worker is a plain module. Run from TypeScript sources (tests, the bench),
 * it starts through tsx's loader, which a worker does not inherit from the parent's `--import tsx`.
 */
export function startCsrWorker(): Worker {
  if (!import.meta.url.endsWith(".ts")) return new Worker(new URL("./csr-worker.js", import.meta.url));
  const tsx = import.meta.resolve("tsx/esm/api");
  const source = new URL("./csr-worker.ts", import.meta.url).href;
  const boot = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(boot, { eval: true });
}
