/**
 * The HSM bench (issue 18): ECDSA P-256 signatures/s through a SoftHSM2 token (PKCS#11, the session
 * pool signing in parallel), through the software key store, and raw node:crypto; then issuance
 * end to end with the CA keys in SoftHSM2 against the software store, measured back to back on the
 * same database kind in the order software, HSM, HSM, software (so a drift in the machine's load
 * falls on both alike), and the ratio. The machine's load average is reported with the numbers.
 * The token is SoftHSM2's, in a directory of its own (SOFTHSM2_CONF), removed afterwards.
 */
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import {
  csrs,
  issuance,
  onScratchPGlite,
  onScratchSchema,
  rawSigning,
  type StoreResult,
} from "../src/cli/issuance-bench.js";
import { openPkcs11KeyStore, SoftwareKeyStore, type KeyStore, type SealedKey } from "../src/crypto/index.js";
import type { Database, DatabaseKind } from "../src/store/index.js";
import { softHsmToken } from "../test/support/softhsm.js";

export interface HsmBenchOptions {
  readonly seconds: number;
  /** Signatures in flight at once in the signing bench. */
  readonly concurrency: number;
  /** Certificates per issuance run, and requests in flight. */
  readonly count: number;
  readonly issuanceConcurrency: number;
  readonly stores: readonly DatabaseKind[];
  readonly postgresUrl: string;
}

export interface HsmBenchReport {
  readonly load: { readonly before: number[]; readonly after: number[] };
  readonly signatures: { readonly raw: number; readonly software: number; readonly hsm: number };
  readonly issuance: readonly {
    readonly store: DatabaseKind;
    readonly software: number;
    readonly hsm: number;
    readonly runs: readonly { readonly key: "software" | "hsm"; readonly result: StoreResult }[];
  }[];
}

const tbs = randomBytes(400); // about a TBSCertificate

/** Signatures/s of `sign`, with `concurrency` in flight, for `seconds`. */
async function signingRate(
  sign: (data: Uint8Array) => Promise<unknown>,
  seconds: number,
  concurrency: number,
) {
  for (let i = 0; i < 200; i++) await sign(tbs);
  let n = 0;
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await sign(tbs);
        n++;
      }
    }),
  );
  return n / ((performance.now() - start) / 1000);
}

async function signerRate(store: KeyStore, options: HsmBenchOptions, kind: "software" | "pkcs11") {
  const ref = await store.generate({
    algorithm: "p256",
    label: "bench",
    purpose: "bench",
    store: kind,
    extractable: false,
  });
  const signer = await store.signer(ref);
  return signingRate((d) => signer.sign(d), options.seconds, options.concurrency);
}

function memoryVault() {
  const entries = new Map<string, SealedKey>();
  return {
    put: async (k: SealedKey) => void entries.set(k.handle, k),
    get: async (h: string) => entries.get(h),
    delete: async (h: string) => void entries.delete(h),
    rewrapAll: () => Promise.reject(new Error("not in the bench")),
  };
}

export async function runHsmBench(options: HsmBenchOptions): Promise<HsmBenchReport> {
  const before = loadavg();
  const token = await softHsmToken("keyfleet-bench");
  try {
    const hsm = await openPkcs11KeyStore({ module: token.module, token: token.token, pin: token.pin });
    const software = new SoftwareKeyStore(memoryVault(), { source: "file", key: randomBytes(32) });
    let signatures: HsmBenchReport["signatures"];
    try {
      signatures = {
        raw: rawSigning(),
        software: await signerRate(software, options, "software"),
        hsm: await signerRate(hsm, options, "pkcs11"),
      };
    } finally {
      hsm.close();
    }
    const requests = await csrs(Math.min(options.count, 500));
    const results: HsmBenchReport["issuance"][number][] = [];
    for (const store of options.stores) {
      const runs: { key: "software" | "hsm"; result: StoreResult }[] = [];
      for (const key of ["software", "hsm", "hsm", "software"] as const) {
        const run = async (database: Database) => {
          const tokenStore =
            key === "hsm"
              ? await openPkcs11KeyStore({ module: token.module, token: token.token, pin: token.pin })
              : undefined;
          try {
            return await issuance(database, requests, {
              count: options.count,
              concurrency: options.issuanceConcurrency,
              csrWorkers: 2,
              rawSignaturesPerSecond: signatures.raw,
              audit: true,
              token: tokenStore,
            });
          } finally {
            tokenStore?.close();
          }
        };
        runs.push({
          key,
          result:
            store === "pglite" ? await onScratchPGlite(run) : await onScratchSchema(options.postgresUrl, run),
        });
      }
      const mean = (k: "software" | "hsm") => {
        const of = runs.filter((r) => r.key === k).map((r) => r.result.certificatesPerSecond);
        return of.reduce((a, b) => a + b, 0) / of.length;
      };
      results.push({ store, software: mean("software"), hsm: mean("hsm"), runs });
    }
    return { load: { before, after: loadavg() }, signatures, issuance: results };
  } finally {
    await token.dispose();
  }
}

export function formatHsmBench(r: HsmBenchReport, options: HsmBenchOptions): string {
  const f = (n: number, width = 9) => n.toFixed(0).padStart(width);
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(", ");
  const names: Record<DatabaseKind, string> = { pglite: "PGlite", postgres: "PostgreSQL" };
  return [
    `HSM: ECDSA P-256 in SoftHSM2 (PKCS#11) vs the software key store; load average ${load(r.load.before)} before, ${load(r.load.after)} after`,
    `signatures/s (${options.concurrency} in flight, ${options.seconds} s each): raw node:crypto ${f(r.signatures.raw, 0)} (one core, synchronous)  software store ${f(r.signatures.software, 0)}  SoftHSM2 ${f(r.signatures.hsm, 0)} (${((100 * r.signatures.hsm) / r.signatures.software).toFixed(0)} % of software)`,
    `issuance, ${options.count} certificates per run, ${options.issuanceConcurrency} in flight, audit on; runs software, HSM, HSM, software:`,
    ...r.issuance.map(
      (i) =>
        `  ${names[i.store].padEnd(11)} software ${f(i.software)} certs/s   HSM ${f(i.hsm)} certs/s   HSM / software ${((100 * i.hsm) / i.software).toFixed(1)} % (goal ≥ 80 %)   runs: ${i.runs.map((x) => `${x.key} ${x.result.certificatesPerSecond.toFixed(0)}`).join(", ")}`,
    ),
  ].join("\n");
}
