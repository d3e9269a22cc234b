import type { Command } from "commander";
import { KeyfleetCommand } from "../program.js";
import { execute, globals } from "../execute.js";
import { print, type CliIo } from "../io.js";
import { operatorReasons } from "../../ca/index.js";
import { dateOption, integerOption, limitOption, readInput } from "../parse.js";

/** Longer than any CA here may live; the profile and the issuer's own validity bound it further. */
const maxValidityDays = 36500;

export function certCommand(io: CliIo): Command {
  const cert = new KeyfleetCommand("cert").description("certificates");
  cert
    .command("issue")
    .description("issue a certificate from a PKCS#10 CSR; prints the PEM certificate")
    .requiredOption("--csr <file>", "the CSR, PEM or DER")
    .option("--device <id>", "bind the certificate to a registered device")
    .option(
      "--profile <name>",
      "device | client | tls-server | ocsp-responder (default: device with --device, client without)",
    )
    .option(
      "--request-id <id>",
      "idempotency key (1–200 printable ASCII characters): the same id never yields two certificates",
    )
    .option("--validity-days <days>", "validity in whole days (default: the profile's)")
    .action(
      async (
        options: {
          csr: string;
          device?: string;
          profile?: string;
          requestId?: string;
          validityDays?: string;
        },
        command: Command,
      ) => {
        const validitySeconds =
          options.validityDays === undefined
            ? undefined
            : integerOption("--validity-days", options.validityDays, 1, maxValidityDays) * 86400;
        const issued = await execute(command, io, "cert.issue", {
          csr: await readInput(options.csr),
          profile: options.profile,
          deviceId: options.device,
          requestId: options.requestId,
          validitySeconds,
        });
        print(io, globals(command).json, issued, () => issued.pem.trimEnd());
      },
    );
  cert
    .command("show")
    .argument("<serial>", "serial number in hex, as openssl prints it (`-serial`, or `-text` with colons)")
    .description("one certificate's record (--pem for the certificate alone)")
    .option("--pem", "print the PEM certificate only")
    .action(async (serial: string, options: { pem?: boolean }, command: Command) => {
      const c = await execute(command, io, "cert.show", { serial });
      if (options.pem) return io.out(c.pem.trimEnd());
      print(io, globals(command).json, c, () =>
        Object.entries(c)
          .filter(([k]) => k !== "pem")
          .map(([k, v]) => `${k.padEnd(18)} ${shownValue(v)}`)
          .join("\n"),
      );
    });
  cert
    .command("revoke")
    .argument("<serial>", "serial number in hex, as openssl prints it")
    .description(
      "revoke a certificate (final), or put one bound to no device on hold (--reason certificateHold); the next CRL and OCSP answers say so",
    )
    .requiredOption("--reason <reason>", `RFC 5280 reason: ${operatorReasons.join(" | ")}`)
    .option("--invalidity-date <time>", "when the key was (or may have been) compromised, ISO 8601")
    .option("--comment <text>", "why, for the audit log and the event")
    .action(
      async (
        serial: string,
        o: { reason: string; invalidityDate?: string; comment?: string },
        command: Command,
      ) => {
        const c = await execute(command, io, "cert.revoke", {
          serial,
          reason: o.reason,
          invalidityDate:
            o.invalidityDate === undefined ? undefined : dateOption("--invalidity-date", o.invalidityDate),
          comment: o.comment,
        });
        print(io, globals(command).json, c, () => statusLine(c));
      },
    );
  cert
    .command("release")
    .argument("<serial>", "serial number in hex, as openssl prints it")
    .description("lift the hold of a certificate bound to no device (a device's: keyfleet device resume)")
    .action(async (serial: string, _o: unknown, command: Command) => {
      const c = await execute(command, io, "cert.release", { serial });
      print(io, globals(command).json, c, () => statusLine(c));
    });
  cert
    .command("list")
    .description("certificates, newest first")
    .option("--device <id>", "only this device's")
    .option("--limit <n>", "page size (1–500)", "50")
    .option("--after <cursor>", "continue after this cursor (printed at the end of a full page)")
    .action(async (options: { device?: string; limit: string; after?: string }, command: Command) => {
      const page = await execute(command, io, "cert.list", {
        deviceId: options.device,
        limit: limitOption(options.limit),
        after: options.after, // a serial; checked where the list is read
      });
      print(io, globals(command).json, page, () =>
        [
          ...page.items.map(
            (c) =>
              `${c.serial}  ${c.profile.padEnd(14)} ${c.status.padEnd(7)} until ${c.notAfter}  ${c.subject}`,
          ),
          ...(page.next ? [`(more: --after ${page.next})`] : []),
        ].join("\n"),
      );
    });
  return cert;
}

/** A field of `cert show`: lists by commas, the revocation as `reason=… revokedAt=…`. */
function shownValue(v: unknown): string {
  if (Array.isArray(v)) return v.join(", ");
  if (v !== null && typeof v === "object") {
    return Object.entries(v)
      .map(([k, x]) => `${k}=${String(x)}`)
      .join(" ");
  }
  return String(v);
}

/** One line on what a revocation or release left: the status, why, and whether this call changed it. */
function statusLine(c: {
  serial: string;
  status: string;
  revocation: { reason: string; revokedAt: string } | null;
  changed: boolean;
}): string {
  const since = c.revocation ? ` (${c.revocation.reason}) since ${c.revocation.revokedAt}` : "";
  return `${c.serial}  ${c.status}${since}${c.changed ? "" : "  (unchanged: it already was)"}`;
}
