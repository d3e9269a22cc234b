import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import { isKeyfleetError } from "../domain/index.js";
import { derOrPem, fromPem, toPem } from "./pem.js";

const exec = promisify(execFile);
const der = Uint8Array.from({ length: 100 }, (_, i) => (i * 7 + 0x30) & 0xff);
der[0] = 0x30;

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isKeyfleetError(e) ? e.code : `not a KeyfleetError: ${String(e)}`;
  }
  return undefined;
}

describe("toPem", () => {
  test("writes 64-character lines and a trailing newline (RFC 7468 §3)", () => {
    const pem = toPem("CERTIFICATE", der);
    const lines = pem.split("\n");
    expect(lines[0]).toBe("-----BEGIN CERTIFICATE-----");
    expect(lines[1]).toHaveLength(64);
    expect(lines[2]!.length).toBeLessThanOrEqual(64);
    expect(lines.at(-2)).toBe("-----END CERTIFICATE-----");
    expect(pem.endsWith("-----\n")).toBe(true);
  });

  test("is what openssl writes for the same bytes", async () => {
    const dir = await mkdtemp(join(tmpdir(), "keyfleet-pem-"));
    try {
      await writeFile(join(dir, "x.bin"), der);
      await exec("openssl", ["base64", "-e", "-A", "-in", join(dir, "x.bin"), "-out", join(dir, "x.b64")]);
      const b64 = (await readFile(join(dir, "x.b64"), "utf8")).trim();
      expect(toPem("X", der).replace(/-----[^-]+-----|\n/g, "")).toBe(b64);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("fromPem", () => {
  test("reads every block, or every block of one label, tolerating CRLF and indentation", () => {
    const text = `junk\r\n${toPem("CERTIFICATE", der).replace(/\n/g, "\r\n  ")}\n${toPem("X509 CRL", der.subarray(0, 5))}${toPem("CERTIFICATE", der.subarray(0, 10))}`;
    expect(fromPem(text)).toHaveLength(3);
    const certs = fromPem(text, "CERTIFICATE");
    expect(certs.map((c) => c.length)).toEqual([100, 10]);
    expect(certs[0]).toEqual(der);
  });

  test("refuses bad base64, RFC 1421 headers, mismatched labels and missing blocks", () => {
    expect(code(() => fromPem("-----BEGIN X-----\nAB$C\n-----END X-----\n"))).toBe("malformed-request");
    expect(code(() => fromPem("-----BEGIN X-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END X-----\n"))).toBe(
      "malformed-request",
    );
    expect(code(() => fromPem("-----BEGIN X-----\nAAA\n-----END X-----\n"))).toBe("malformed-request");
    expect(code(() => fromPem("-----BEGIN X-----\n\n-----END X-----\n"))).toBe("malformed-request");
    expect(code(() => fromPem("-----BEGIN X-----\nAAAA\n-----END Y-----\n"))).toBe("malformed-request");
    expect(code(() => fromPem(toPem("X", der), "CERTIFICATE"))).toBe("malformed-request");
    expect(code(() => fromPem("no pem here"))).toBe("malformed-request");
  });
});

describe("derOrPem", () => {
  test("passes DER through and decodes PEM given as text or bytes", () => {
    expect(derOrPem(der, "CERTIFICATE")).toBe(der);
    expect(derOrPem(toPem("CERTIFICATE", der), "CERTIFICATE")).toEqual(der);
    expect(derOrPem(new TextEncoder().encode(toPem("CERTIFICATE", der)), "CERTIFICATE")).toEqual(der);
  });

  test("accepts the NEW CERTIFICATE REQUEST label for CSRs (RFC 7468 §7)", () => {
    expect(derOrPem(toPem("NEW CERTIFICATE REQUEST", der), "CERTIFICATE REQUEST")).toEqual(der);
  });

  test("refuses empty input, random bytes, two objects and the wrong label", () => {
    expect(code(() => derOrPem(new Uint8Array(0), "CERTIFICATE"))).toBe("malformed-request");
    expect(code(() => derOrPem("", "CERTIFICATE"))).toBe("malformed-request");
    expect(code(() => derOrPem(Uint8Array.of(0x01, 0x02, 0x03), "CERTIFICATE"))).toBe("malformed-request");
    expect(code(() => derOrPem(toPem("CERTIFICATE", der).repeat(2), "CERTIFICATE"))).toBe(
      "malformed-request",
    );
    expect(code(() => derOrPem(toPem("PRIVATE KEY", der), "CERTIFICATE"))).toBe("malformed-request");
  });
});
