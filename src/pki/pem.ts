/**
 * PEM (RFC 7468): the textual encoding people paste and openssl writes. We write the strict form
 * (§3: 64-character lines, no headers) and read the lax one (§3 parsers: any whitespace and line
 * ending inside the base64), but never base64 with junk characters or RFC 1421 headers in it.
 */
import { KeyfleetError } from "../domain/index.js";

export function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString("base64");
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join("\n")}${lines.length ? "\n" : ""}-----END ${label}-----\n`;
}

// RFC 7468 §7: "NEW CERTIFICATE REQUEST" (old Netscape/Microsoft tools) is seen in the wild; readers may accept it.
const aliases: Readonly<Record<string, readonly string[]>> = {
  "CERTIFICATE REQUEST": ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"],
};

const BLOCK = /-----BEGIN ([A-Z0-9 ]*)-----([\s\S]*?)-----END ([A-Z0-9 ]*)-----/g;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Every PEM block in `text` (only those labelled `label`, when given), decoded. */
export function fromPem(text: string, label?: string): Uint8Array[] {
  const accepted = label === undefined ? undefined : (aliases[label] ?? [label]);
  const out: Uint8Array[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const [, begin, body, end] = m as unknown as [string, string, string, string];
    if (begin !== end) {
      throw new KeyfleetError("malformed-request", `PEM block "BEGIN ${begin}" ends with "END ${end}"`);
    }
    if (accepted && !accepted.includes(begin)) continue;
    out.push(decodeBody(body, begin));
  }
  if (out.length === 0) {
    throw new KeyfleetError(
      "malformed-request",
      label === undefined ? "no PEM block found" : `no PEM block labelled "${label}" found`,
    );
  }
  return out;
}

function decodeBody(body: string, label: string): Uint8Array {
  const b64 = body.replace(/[ \t\r\n]/g, "");
  if (b64.length === 0 || !BASE64.test(b64)) {
    throw new KeyfleetError(
      "malformed-request",
      `PEM block "${label}" does not hold valid base64 (headers and stray characters are not accepted)`,
    );
  }
  return new Uint8Array(Buffer.from(b64, "base64"));
}

/**
 * One DER object from DER bytes or PEM (text, or PEM text sent as bytes). DER is recognised by
 * its first octet (a SEQUENCE, 0x30: every X.509 object we read is one); the DER itself is checked
 * by the parser that reads it.
 */
export function derOrPem(input: Uint8Array | string, label: string): Uint8Array {
  if (typeof input !== "string") {
    if (input.length === 0) throw new KeyfleetError("malformed-request", `empty input: expected a ${label}`);
    if (input[0] === 0x30) return input;
    input = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString("latin1");
  }
  if (!input.includes("-----BEGIN")) {
    throw new KeyfleetError("malformed-request", `expected a ${label} as DER or PEM`);
  }
  const blocks = fromPem(input, label);
  if (blocks.length !== 1) {
    throw new KeyfleetError("malformed-request", `expected one "${label}" PEM block, found ${blocks.length}`);
  }
  return blocks[0]!;
}
