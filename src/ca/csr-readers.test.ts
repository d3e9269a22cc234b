import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { opensslCsrDer, workdir, type Workdir } from "../../test/support/openssl.js";
import type { KeyfleetError } from "../domain/index.js";
import { inlineCsrReader, workerCsrReader, type CsrReader } from "./csr-readers.js";

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

  test("many requests at once each get their own answer", async () => {
    const mixed = Array.from({ length: 300 }, (_, i) =>
      i % 7 === 3 ? new Uint8Array([0x30, 0x00]) : csrs[i % csrs.length]!,
    );
    const answers = await Promise.allSettled(mixed.map((der) => pool.read(der)));
    answers.forEach((answer, i) => {
      if (i % 7 === 3) expect(answer.status).toBe("rejected");
      else expect(answer.status === "fulfilled" && answer.value.der).toEqual(csrs[i % csrs.length]);
    });
  });
});

test("a closed pool refuses new work and fails what it had in hand", async () => {
  const pool = workerCsrReader(1);
  await pool.read(csrs[0]!); // started
  const inHand = pool.read(csrs[1]!);
  await pool.close();
  await expect(inHand).rejects.toMatchObject({ code: "internal" });
  await expect(pool.read(csrs[0]!)).rejects.toMatchObject({ code: "internal" });
});
