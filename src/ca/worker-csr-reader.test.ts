import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { opensslCsrDer, workdir, type Workdir } from "../../test/support/openssl.js";
import type { KeyfleetError } from "../domain/index.js";
import { exponentOneCsr, smallOrderEd25519Csr } from "../pki/test-csr.js";
import { inlineCsrReader, type CsrReader } from "./csr-reader.js";
import { startCsrWorker, workerCsrReader } from "./worker-csr-reader.js";

let dir: Workdir;
const csrs: Uint8Array[] = [];
beforeAll(async () => {
  dir = await workdir();
  for (const algorithm of ["p256", "p384", "ed25519", "rsa3072"] as const) {
    csrs.push(
      await opensslCsrDer(dir, algorithm, `/O=Acme/CN=${algorithm}-device`, [
        "-addext",
        `subjectAltName=DNS:${algorithm}.devices.acme.test,IP:10.0.0.7`,
      ]),
    );
  }
});
afterAll(() => dir.dispose());

const failure = (reader: CsrReader, der: Uint8Array) =>
  reader.read(der).then(
    () => undefined,
    (e: KeyfleetError) => ({ name: e.name, code: e.code, message: e.message }),
  );

describe("the worker pool reads CSRs exactly as the event loop does", () => {
  let pool: CsrReader;
  beforeAll(() => {
    pool = workerCsrReader(2);
  });
  afterAll(() => pool.close());

  test("same parsed request for every algorithm", async () => {
    for (const der of csrs) {
      expect(await pool.read(der)).toEqual(await inlineCsrReader.read(der));
    }
  });

  test("same error code and message for bad input", async () => {
    const good = csrs[0]!;
    const badSignature = Uint8Array.from(good);
    badSignature[badSignature.length - 5]! ^= 0x01;
    const bad = [good.subarray(0, 40), Uint8Array.from([...good, 0]), new Uint8Array(0), badSignature];
    for (const der of bad) {
      const inline = await failure(inlineCsrReader, der);
      expect(inline?.name).toBe("KeyfleetError");
      expect(await failure(pool, der)).toEqual(inline);
    }
    expect((await failure(pool, badSignature))?.code).toBe("bad-signature");
  });

  test("a weak key's refusal crosses the worker boundary with its code and message", async () => {
    const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const modulus = Buffer.from(publicKey.export({ format: "jwk" }).n!, "base64url");
    const identity = Uint8Array.from(Buffer.from("01".padEnd(64, "0"), "hex"));
    for (const der of [exponentOneCsr(modulus), smallOrderEd25519Csr(identity)]) {
      const inline = await failure(inlineCsrReader, der);
      expect(inline).toMatchObject({ name: "KeyfleetError", code: "weak-key" });
      expect(await failure(pool, der)).toEqual(inline);
    }
  });

  test("many requests at once each get their own answer", async () => {
    const mixed = Array.from({ length: 300 }, (_, i) =>
      i % 7 === 3 ? new Uint8Array([0x30, 0x00]) : csrs[i % csrs.length]!,
    );
    const answers = await Promise.allSettled(mixed.map((der) => pool.read(der)));
    const expected = await Promise.allSettled(mixed.map((der) => inlineCsrReader.read(der)));
    expect(answers.filter((a) => a.status === "rejected")).toHaveLength(43);
    answers.forEach((answer, i) => {
      if (answer.status === "fulfilled")
        expect(answer.value).toEqual((expected[i] as PromiseFulfilledResult<unknown>).value);
      else expect(expected[i]!.status).toBe("rejected");
    });
  });

  test("sends the CSR's own bytes, not the buffer around them, and leaves the caller's bytes alone", async () => {
    const around = new Uint8Array(8192).fill(0x5a); // stands for Node's shared pool slab
    around.set(csrs[0]!, 1000);
    const view = around.subarray(1000, 1000 + csrs[0]!.length);
    const csr = await pool.read(view);
    expect(csr.der).toEqual(csrs[0]);
    expect(csr.der.buffer.byteLength).toBe(csrs[0]!.length);
    expect(view).toEqual(csrs[0]); // not transferred away from the caller
  });
});

describe("shutdown and failure", () => {
  test("close() fails what it had in hand, work queued in the same turn, and everything after", async () => {
    const warm = workerCsrReader(1);
    await warm.read(csrs[0]!);
    const inHand = expect(warm.read(csrs[1]!)).rejects.toMatchObject({ code: "unavailable" });
    await warm.close();
    await inHand;
    await expect(warm.read(csrs[0]!)).rejects.toMatchObject({ code: "unavailable" });

    let started = 0;
    const cold = workerCsrReader(2, () => {
      started++;
      return startCsrWorker();
    });
    // Queued but not yet sent: close() comes first.
    const queued = expect(cold.read(csrs[0]!)).rejects.toMatchObject({ code: "unavailable" });
    await cold.close();
    await queued;
    await new Promise((r) => setImmediate(r));
    expect(started).toBe(0);
  });

  test("a worker that dies fails its own requests with unavailable, and a new one takes the next", async () => {
    const crashing = () =>
      new Worker(`require("node:worker_threads").parentPort.on("message", () => process.exit(3));`, {
        eval: true,
      });
    let starts = 0;
    const pool = workerCsrReader(1, () => (++starts === 1 ? crashing() : startCsrWorker()));
    try {
      const lost = await failure(pool, csrs[0]!);
      expect(lost).toMatchObject({
        code: "unavailable",
        message: expect.stringMatching(/worker stopped.*retry/),
      });
      expect(await pool.read(csrs[0]!)).toEqual(await inlineCsrReader.read(csrs[0]!));
      expect(starts).toBe(2);
    } finally {
      await pool.close();
    }
  });

  test("an idle pool that was never closed does not keep the process alive", async () => {
    const root = fileURLToPath(new URL("../..", import.meta.url));
    const script = `
      import { workerCsrReader } from "./src/ca/worker-csr-reader.ts";
      const der = Buffer.from(${JSON.stringify(Buffer.from(csrs[0]!).toString("base64"))}, "base64");
      const csr = await workerCsrReader(2).read(new Uint8Array(der));
      console.log(csr.keyAlgorithm);`;
    const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        ["--import", "tsx", "--input-type=module", "-e", script],
        { cwd: root, timeout: 60_000 },
        (error, stdout) => resolve({ code: error ? (child.exitCode ?? -1) : 0, stdout }),
      );
    });
    expect(result).toEqual({ code: 0, stdout: "p256\n" });
  });
});
