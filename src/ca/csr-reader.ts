/**
 * Where CSRs are parsed and their proof of possession verified. Verifying is the costliest step of
 * issuance: importing the device's public key and checking its signature take ≈ 115 µs of CPU,
 * against ≈ 20 µs to sign the certificate. A server therefore verifies on worker threads
 * (worker-csr-reader.ts) and keeps the event loop for signing and committing; a command that
 * issues one certificate and exits parses in-process, where starting a worker costs more than the CSR.
 */
import type { ErrorCode } from "../domain/index.js";
import { parseCsr, type ParsedCsr } from "../pki/index.js";

export interface CsrReader {
  /** As `parseCsr`: the parsed request (with its own copy of the bytes), or the KeyfleetError it throws. */
  read(der: Uint8Array): Promise<ParsedCsr>;
  /** Stops taking work; requests not yet answered fail with `unavailable`. */
  close(): Promise<void>;
}

/** Parses on the calling thread. */
export const inlineCsrReader: CsrReader = {
  read: async (der) => parseCsr(der),
  close: async () => {},
};

/** What travels to a CSR worker thread, and back. */
export interface CsrJob {
  readonly id: number;
  readonly der: Uint8Array;
}
export type CsrAnswer =
  | { readonly id: number; readonly csr: ParsedCsr; readonly error?: undefined }
  | { readonly id: number; readonly error: { readonly code: ErrorCode; readonly message: string } };
