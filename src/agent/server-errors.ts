/**
 * A server's refusal as a KeyfleetError. EST answers errors as text (RFC 7030 §4.2.3); Keyfleet's
 * JSON API as problem details (RFC 9457), whose `type` ends in the error's code. The status picks
 * the code when the body does not name one; the server's words, one line and bounded, are kept.
 */
import { KeyfleetError, quoted, type ErrorCode } from "../domain/index.js";
import { retryAfterMs } from "./retry.js";
import type { HttpsResponse } from "./https-request.js";

const byStatus: Readonly<Record<number, ErrorCode>> = {
  400: "malformed-request",
  401: "unauthorized",
  403: "forbidden",
  404: "not-found",
  409: "conflict",
  413: "malformed-request",
  415: "malformed-request",
  422: "profile-violation",
  429: "unavailable",
  501: "invalid-configuration",
};

function serverWords(res: HttpsResponse): string {
  const text = res.body.toString("utf8");
  if (/json/.test(String(res.headers["content-type"]))) {
    try {
      const problem = JSON.parse(text) as { detail?: unknown; title?: unknown };
      const said = typeof problem.detail === "string" ? problem.detail : problem.title;
      if (typeof said === "string") return said;
    } catch {
      // not JSON after all: quote the text
    }
  }
  return text.replace(/\s+/g, " ").trim();
}

export function serverRefusal(res: HttpsResponse, doing: string, now: Date): KeyfleetError {
  const code: ErrorCode = byStatus[res.status] ?? (res.status >= 500 ? "unavailable" : "internal");
  const words = serverWords(res);
  const retry = retryAfterMs(header(res, "retry-after"), now);
  return new KeyfleetError(
    code,
    `${doing}: the server answered ${res.status}${words ? ` ${quoted(words, 300)}` : ""}`,
    { detail: { status: res.status, ...(retry === undefined ? {} : { retryAfterMs: retry }) } },
  );
}

export function header(res: HttpsResponse, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
