import { readFile } from "node:fs/promises";
import { Command } from "commander";
import { certificateJson } from "../../ca/index.js";
import { KeyfleetError } from "../../domain/index.js";
import { globals, print, withApp, type Output } from "../context.js";

export function certCommand(output: Output): Command {
  const cert = new Command("cert").description("certificates");
  cert
    .command("issue")
    .description("issue a certificate from a PKCS#10 CSR; prints the PEM certificate")
    .requiredOption("--csr <file>", "the CSR, PEM or DER")
    .option("--device <id>", "bind the certificate to a registered device")
    .option("--profile <name>", "device | tls-server | ocsp-responder", "device")
    .option("--request-id <id>", "idempotency key: the same id never yields two certificates")
    .option("--validity-days <days>", "validity (default: the profile's)")
    .action(
      async (
        options: { csr: string; device?: string; profile: string; requestId?: string; validityDays?: string },
        command: Command,
      ) => {
        const csr = await readInput(options.csr);
        const validitySeconds = options.validityDays === undefined ? undefined : days(options.validityDays);
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
      await withApp(command, {}, async (app) => {
        const page = await app.authority.certificates({
          deviceId: options.device,
          limit: Number(options.limit),
          after: options.after,
        });
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

async function readInput(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (cause) {
    throw new KeyfleetError("malformed-request", `cannot read ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
}

function days(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new KeyfleetError(
      "malformed-request",
      `--validity-days must be a positive whole number, got "${value}"`,
    );
  return n * 86400;
}
