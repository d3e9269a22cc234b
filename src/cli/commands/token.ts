import type { Command } from "commander";
import { KeyfleetCommand } from "../program.js";
import { execute, globals } from "../execute.js";
import { print, type CliIo } from "../io.js";
import { limitOption, sequenceCursorOption, ttlOption } from "../parse.js";

/** The roles, for help (policy's list; kept out of the import graph of parsing, and checked by a test). */
export const roleHelp =
  "admin | viewer | operator | provisioner | security-officer | policy-admin | ca-admin | auditor | metrics";
const ttlHelp = "lifetime in whole days (up to 36500), or never (default: 90 days)";

export function tokenCommand(io: CliIo): Command {
  const token = new KeyfleetCommand("token").description("API tokens");
  token
    .command("create")
    .description("create an API token; prints the token alone (it is shown once and stored only as a hash)")
    .requiredOption("--role <role>", roleHelp)
    .option(
      "--scope <key=value>",
      "limit the token to devices with tenant=T or region=R (repeatable; values of one key are alternatives)",
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option("--description <text>", "what the token is for")
    .option("--ttl-days <days>", ttlHelp)
    .action(
      async (
        options: { role: string; scope: string[]; description?: string; ttlDays?: string },
        command: Command,
      ) => {
        const created = await execute(command, io, "token.create", {
          role: options.role,
          scopes: options.scope,
          description: options.description,
          ttlSeconds: ttlOption(options.ttlDays),
        });
        print(io, globals(command).json, created, () => created.token);
      },
    );
  token
    .command("list")
    .description("tokens, newest first: id, role, scopes, state, expiry and last use (never the secrets)")
    .option("--limit <n>", "page size (1–500)", "50")
    .option("--after <cursor>", "continue after this cursor (printed at the end of a full page)")
    .action(async (o: { limit: string; after?: string }, command: Command) => {
      const page = await execute(command, io, "token.list", {
        limit: limitOption(o.limit),
        after: o.after === undefined ? undefined : sequenceCursorOption(o.after),
      });
      print(io, globals(command).json, page, () =>
        [
          ...page.items.map((t) =>
            [
              t.id,
              t.role.padEnd(8),
              t.state.padEnd(7),
              `expires ${t.expiresAt ?? "never"}`,
              `last used ${t.lastUsedAt ?? "never"}`,
              Object.entries(t.scopes)
                .map(([k, v]) => `${k}=${v.join("|")}`)
                .join(",") || "unscoped",
              t.description ?? "",
            ]
              .join("  ")
              .trimEnd(),
          ),
          ...(page.next ? [`(more: --after ${page.next})`] : []),
        ].join("\n"),
      );
    });
  token
    .command("revoke")
    .argument("<id>", "the token's id, as `token list` prints it")
    .description("revoke a token: it is refused from the next request on")
    .action(async (id: string, _o, command: Command) => {
      const revoked = await execute(command, io, "token.revoke", { id });
      print(io, globals(command).json, revoked, () => `revoked ${revoked.id}`);
    });
  token
    .command("rotate")
    .argument("<id>", "the token's id, as `token list` prints it")
    .description("replace a token's secret: prints the new token alone; the old one is revoked at once")
    .option("--ttl-days <days>", "lifetime of the new token in whole days, or never (default: the old one's)")
    .action(async (id: string, o: { ttlDays?: string }, command: Command) => {
      const created = await execute(command, io, "token.rotate", { id, ttlSeconds: ttlOption(o.ttlDays) });
      print(io, globals(command).json, created, () => created.token);
    });
  return token;
}
