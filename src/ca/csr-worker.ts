/**
 * The body of a CSR worker thread (see csr-readers.ts): parses and verifies batches of CSRs with
 * the same pure `parseCsr` the event loop would use, and answers each with the parsed request or
 * the error's code and message. Nothing here holds a key: CSRs carry only public keys.
 */
import { parentPort } from "node:worker_threads";
import { isKeyfleetError } from "../domain/index.js";
import { parseCsr } from "../pki/index.js";
import type { CsrAnswer, CsrJob } from "./csr-readers.js";

function answer({ id, der }: CsrJob): CsrAnswer {
  try {
    const { der: _theCallerHasIt, ...csr } = parseCsr(der);
    return { id, csr };
  } catch (error) {
    const code = isKeyfleetError(error) ? error.code : "internal";
    const message = isKeyfleetError(error) ? error.message : "the CSR could not be read";
    return { id, error: { code, message } };
  }
}

parentPort!.on("message", (jobs: readonly CsrJob[]) => {
  parentPort!.postMessage(jobs.map(answer));
});
