/**
 * The pages every problem's `type` points to (RFC 9457 §3.1.1 encourages type URIs that resolve to
 * human-readable documentation): /problems/<code> says what the code means and what to do about it,
 * /problems/ lists them all. Served on both listeners, so a `type` resolves on whichever answered.
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import { KeyfleetError, quoted, type ErrorCode } from "../../domain/index.js";
import { problemTypeBase, statusOf, titleOf } from "../problem.js";
import { errorCodes, isErrorCode, problemTypes } from "../problem-types.js";

export function problemRoutes(http: FastifyInstance): void {
  http.get(problemTypeBase, { schema: { hide: true } }, async (_request, reply) =>
    sendHtml(reply, "Keyfleet problem types", indexBody()),
  );
  // The list without its trailing slash is the same page.
  http.get(problemTypeBase.slice(0, -1), { schema: { hide: true } }, async (_request, reply) =>
    reply.redirect(problemTypeBase, 301),
  );
  http.get<{ Params: { code: string } }>(
    `${problemTypeBase}:code`,
    {
      schema: {
        hide: true,
        params: { type: "object", properties: { code: { type: "string" } }, required: ["code"] },
      },
    },
    async (request, reply) => {
      const { code } = request.params;
      if (!isErrorCode(code)) {
        throw new KeyfleetError(
          "not-found",
          `no problem type ${quoted(code)}; the list is at ${problemTypeBase}`,
        );
      }
      return sendHtml(reply, `${titleOf(code)} — Keyfleet problem type`, pageBody(code));
    },
  );
}

function pageBody(code: ErrorCode): string {
  const { meaning, remedy } = problemTypes[code];
  return [
    `<h1>${escapeHtml(titleOf(code))}</h1>`,
    `<p>Problem type <code>${escapeHtml(problemTypeBase + code)}</code>: code <code>${escapeHtml(code)}</code>, ` +
      `usually HTTP ${statusOf[code]}.</p>`,
    `<h2>What it means</h2>`,
    `<p>${prose(meaning)}</p>`,
    `<h2>What to do</h2>`,
    `<p>${prose(remedy)}</p>`,
    `<p>The <code>detail</code> member of the problem says what went wrong in this occurrence.</p>`,
    `<p><a href="${escapeHtml(problemTypeBase)}">All problem types</a></p>`,
  ].join("\n");
}

function indexBody(): string {
  const rows = errorCodes.map(
    (code) =>
      `<li><a href="${escapeHtml(problemTypeBase + code)}"><code>${escapeHtml(code)}</code></a>` +
      ` (HTTP ${statusOf[code]}): ${prose(problemTypes[code].meaning)}</li>`,
  );
  return [
    `<h1>Keyfleet problem types</h1>`,
    `<p>Keyfleet answers refused requests with RFC 9457 problem details (<code>application/problem+json</code>); ` +
      `their <code>type</code> is one of these.</p>`,
    `<ul>`,
    ...rows,
    `</ul>`,
  ].join("\n");
}

function sendHtml(reply: FastifyReply, title: string, body: string) {
  return (
    reply
      .type("text/html; charset=utf-8")
      .header("cache-control", "public, max-age=3600")
      // Static text: the page needs no script, style or frame, so it may load none.
      .header("content-security-policy", "default-src 'none'")
      .header("x-content-type-options", "nosniff")
      .send(
        `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>${escapeHtml(title)}</title>\n` +
          `</head>\n<body>\n${body}\n</body>\n</html>\n`,
      )
  );
}

/** A description from the table, escaped, with its `commands` set as code. */
function prose(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, "<code>$1</code>");
}

/** Text for HTML element content and quoted attribute values. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
