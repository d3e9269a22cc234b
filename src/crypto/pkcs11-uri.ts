/**
 * PKCS#11 URIs (RFC 7512): how a key in a token is named in a KeyRef and in configuration,
 * `pkcs11:token=device;object=keyfleet-agent;id=%a1%b2`. Only the path attributes a key needs are
 * written (token, object, id, §2.3); a PIN never is (pin-value, §2.4, would put a secret in a ref).
 */
import { KeyfleetError, quoted } from "../domain/index.js";

export interface Pkcs11KeyName {
  /** CKA_LABEL of the token (CK_TOKEN_INFO.label), spaces at the end trimmed. */
  readonly token: string;
  /** CKA_LABEL of the key objects. */
  readonly object?: string;
  /** CKA_ID of the key objects. */
  readonly id?: Uint8Array;
}

// RFC 7512 §2.3: pk11-pchar is unreserved / pk11-res-avail / pct-encoded; we encode all else.
const UNRESERVED = /[A-Za-z0-9\-._~:[\]@!$'()*+,=&]/;

function encode(value: string | Uint8Array): string {
  const bytes = typeof value === "string" ? new TextEncoder().encode(value) : value;
  if (typeof value !== "string") {
    return [...bytes].map((b) => `%${b.toString(16).padStart(2, "0")}`).join(""); // §2.3: an id is all pct-encoded
  }
  let out = "";
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    out += b < 0x80 && UNRESERVED.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function decode(value: string, uri: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < value.length; i++) {
    if (value[i] === "%") {
      const hex = value.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw bad(uri, "a bad percent-encoding");
      out.push(parseInt(hex, 16));
      i += 2;
    } else out.push(value.charCodeAt(i));
  }
  return Uint8Array.from(out);
}

const bad = (uri: string, why: string): KeyfleetError =>
  new KeyfleetError("invalid-configuration", `the PKCS#11 URI ${quoted(uri)} has ${why} (RFC 7512)`);

export function formatPkcs11Uri(name: Pkcs11KeyName): string {
  const parts = [`token=${encode(name.token)}`];
  if (name.object !== undefined) parts.push(`object=${encode(name.object)}`);
  if (name.id !== undefined) parts.push(`id=${encode(name.id)}`);
  return `pkcs11:${parts.join(";")}`;
}

/** Reads the path of a PKCS#11 URI; a query (`?pin-source=…`) and unknown attributes are refused. */
export function parsePkcs11Uri(uri: string): Pkcs11KeyName {
  if (!uri.startsWith("pkcs11:")) throw bad(uri, 'no "pkcs11:" scheme');
  const path = uri.slice("pkcs11:".length);
  if (path.includes("?")) throw bad(uri, "a query, which Keyfleet does not read");
  const found = new Map<string, string>();
  for (const part of path.split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw bad(uri, `a malformed attribute ${quoted(part)}`);
    const key = part.slice(0, eq);
    if (!["token", "object", "id"].includes(key)) throw bad(uri, `the unsupported attribute ${quoted(key)}`);
    if (found.has(key)) throw bad(uri, `${quoted(key)} twice`); // §2.3: each attribute at most once
    found.set(key, part.slice(eq + 1));
  }
  const token = found.get("token");
  if (token === undefined) throw bad(uri, "no token attribute");
  const text = (v: string): string => new TextDecoder("utf-8", { fatal: true }).decode(decode(v, uri));
  const object = found.get("object");
  const id = found.get("id");
  return {
    token: text(token),
    ...(object === undefined ? {} : { object: text(object) }),
    ...(id === undefined ? {} : { id: decode(id, uri) }),
  };
}
