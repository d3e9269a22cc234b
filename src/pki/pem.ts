/**
 * PEM (RFC 7468): the textual encoding people paste and openssl writes. We write the strict form
 * (§3: 64-character lines, no headers) and read the lax one (§3 parsers: any whitespace and line
 * ending inside the base64), but never base64 with junk characters or RFC 1421 headers in it.
 */
import { KeyfleetError, quoted } from "../domain/index.js";
import { limits } from "./limits.js";

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

const BEGIN = "-----BEGIN ";
const END = "-----END ";
const DASHES = "-----";
const LABEL = /^[A-Z0-9 ]*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

interface Block {
  readonly label: string;
  readonly body: string;
}

/**
 * The BEGIN…END blocks of `text`, found with forward searches only, so the cost is linear in the
 * text: a lazy regex over the whole text rescanned to its end from every BEGIN line, and 64 KiB of
 * BEGIN lines without an END cost 0.26 s on the event loop (issue 13). A BEGIN line with no END
 * after it ends the search: no later block can have one either.
 */
function* blocks(text: string): Generator<Block> {
  for (let at = 0; ;) {
    const begin = text.indexOf(BEGIN, at);
    if (begin < 0) return;
    const labelEnd = text.indexOf(DASHES, begin + BEGIN.length);
    if (labelEnd < 0) return;
    const label = text.slice(begin + BEGIN.length, labelEnd);
    if (!LABEL.test(label)) {
      at = begin + BEGIN.length; // not a BEGIN line; look further
      continue;
    }
    const end = text.indexOf(END, labelEnd + DASHES.length);
    if (end < 0) return;
    const endLabelEnd = text.indexOf(DASHES, end + END.length);
    const endLabel = endLabelEnd < 0 ? undefined : text.slice(end + END.length, endLabelEnd);
    if (endLabel === undefined || !LABEL.test(endLabel)) {
      throw new KeyfleetError("malformed-request", `PEM block ${quoted(`BEGIN ${label}`)} has no END line`);
    }
    if (endLabel !== label) {
      throw new KeyfleetError(
        "malformed-request",
        `PEM block ${quoted(`BEGIN ${label}`)} ends with ${quoted(`END ${endLabel}`)}`,
      );
    }
    yield { label, body: text.slice(labelEnd + DASHES.length, end) };
    at = endLabelEnd + DASHES.length;
  }
}

/** Every PEM block in `text` (only those labelled `label`, when given), decoded. */
export function fromPem(text: string, label?: string): Uint8Array[] {
  const accepted = label === undefined ? undefined : (aliases[label] ?? [label]);
  const out: Uint8Array[] = [];
  for (const block of blocks(text)) {
    if (accepted && !accepted.includes(block.label)) continue;
    out.push(decodeBody(block.body, block.label));
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
      `PEM block ${quoted(label)} does not hold valid base64 (headers and stray characters are not accepted)`,
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
    if (input[0] === 0x30) return input; // its parser bounds its size
    if (input.length > limits.pemCharacters) throw tooLong(input.length, label);
    input = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString("latin1");
  }
  if (input.length > limits.pemCharacters) throw tooLong(input.length, label);
  if (!input.includes("-----BEGIN")) {
    throw new KeyfleetError("malformed-request", `expected a ${label} as DER or PEM`);
  }
  const blocks = fromPem(input, label);
  if (blocks.length !== 1) {
    throw new KeyfleetError("malformed-request", `expected one "${label}" PEM block, found ${blocks.length}`);
  }
  return blocks[0]!;
}

const tooLong = (length: number, label: string): KeyfleetError =>
  new KeyfleetError(
    "malformed-request",
    `a ${label} in PEM is at most ${limits.pemCharacters} characters; this one has ${length}`,
  );
