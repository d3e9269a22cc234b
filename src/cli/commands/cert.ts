import type { Command } from "commander";
import { KeyfleetCommand } from "../program.js";
import { execute, globals } from "../execute.js";
import { print, type CliIo } from "../io.js";
import { integerOption, limitOption, readInput } from "../parse.js";

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
          .map(([k, v]) => `${k.padEnd(18)} ${Array.isArray(v) ? v.join(", ") : String(v)}`)
          .join("\n"),
      );
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
