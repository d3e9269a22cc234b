import { Command } from "commander";
import { certificateJson } from "../../ca/index.js";
import { globals, print, withApp, type Output } from "../context.js";
import { integerOption, limitOption, readInput, sequenceCursorOption } from "../parse.js";

/** Longer than any CA here may live; the profile and the issuer's own validity bound it further. */
const maxValidityDays = 36500;

export function certCommand(output: Output): Command {
  const cert = new Command("cert").description("certificates");
  cert
    .command("issue")
    .description("issue a certificate from a PKCS#10 CSR; prints the PEM certificate")
    .requiredOption("--csr <file>", "the CSR, PEM or DER")
    .option("--device <id>", "bind the certificate to a registered device")
    .option("--profile <name>", "device | tls-server | ocsp-responder", "device")
    .option(
      "--request-id <id>",
      "idempotency key (1–200 printable ASCII characters): the same id never yields two certificates",
    )
    .option("--validity-days <days>", "validity in whole days (default: the profile's)")
    .action(
      async (
        options: { csr: string; device?: string; profile: string; requestId?: string; validityDays?: string },
        command: Command,
      ) => {
        const validitySeconds =
          options.validityDays === undefined
            ? undefined
            : integerOption("--validity-days", options.validityDays, 1, maxValidityDays) * 86400;
        const csr = await readInput(options.csr);
        await withApp(command, {}, async (app) => {
          const issued = await app.authority.issue({
            csr,
            profile: options.profile,
            deviceId: options.device,
            requestId: options.requestId,
            validitySeconds,
          });
          print(output, globals(command).json, certificateJson(issued), () => issued.pem.trimEnd());
        });
      },
    );
  cert
    .command("show")
    .argument("<serial>", "serial number in hex, as openssl prints it")
    .description("one certificate's record (--pem for the certificate alone)")
    .option("--pem", "print the PEM certificate only")
    .action(async (serial: string, options: { pem?: boolean }, command: Command) => {
      await withApp(command, {}, async (app) => {
        const c = await app.authority.certificate(serial);
        if (options.pem) return output.out(c.pem.trimEnd());
        print(output, globals(command).json, certificateJson(c), () =>
          Object.entries(certificateJson(c))
            .filter(([k]) => k !== "pem")
            .map(([k, v]) => `${k.padEnd(18)} ${Array.isArray(v) ? v.join(", ") : String(v)}`)
            .join("\n"),
        );
      });
    });
  cert
    .command("list")
    .description("certificates, newest first")
    .option("--device <id>", "only this device's")
    .option("--limit <n>", "page size (1–500)", "50")
    .option("--after <cursor>", "continue after this cursor (printed at the end of a full page)")
    .action(async (options: { device?: string; limit: string; after?: string }, command: Command) => {
      const limit = limitOption(options.limit);
      const after = options.after === undefined ? undefined : sequenceCursorOption(options.after);
      await withApp(command, {}, async (app) => {
        const page = await app.authority.certificates({ deviceId: options.device, limit, after });
        print(
          output,
          globals(command).json,
          { items: page.items.map(certificateJson), next: page.next ?? null },
          () =>
            [
              ...page.items.map(
                (c) =>
                  `${c.serial}  ${c.profile.padEnd(14)} ${c.status.padEnd(7)} until ${c.notAfter.toISOString()}  ${c.subject}`,
              ),
              ...(page.next ? [`(more: --after ${page.next})`] : []),
            ].join("\n"),
        );
      });
    });
  return cert;
}
