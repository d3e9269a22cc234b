import { Command } from "commander";
import { parseScopes, roles } from "../../policy/index.js";
import { globals, print, withApp, type Output } from "../context.js";
import { integerOption } from "../parse.js";

/** A hundred years: long enough for "never" said on purpose, short enough to stay a valid date. */
const maxTtlDays = 36500;

export function tokenCommand(output: Output): Command {
  const token = new Command("token").description("API tokens");
  token
    .command("create")
    .description("create an API token; prints the token alone (it is shown once and stored only as a hash)")
    .requiredOption("--role <role>", roles.join(" | "))
    .option(
      "--scope <key=value>",
      "limit the token to devices with tenant=T or region=R (repeatable; values of one key are alternatives)",
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option("--description <text>", "what the token is for")
    .option("--ttl-days <days>", `expire after this many whole days (1–${maxTtlDays}; default: never)`)
    .action(
      async (
        options: { role: string; scope: string[]; description?: string; ttlDays?: string },
        command: Command,
      ) => {
        const scopes = parseScopes(options.scope);
        const ttlSeconds =
          options.ttlDays === undefined
            ? undefined
            : integerOption("--ttl-days", options.ttlDays, 1, maxTtlDays) * 86400;
        await withApp(command, {}, async (app) => {
          const created = await app.tokens.create({
            role: options.role,
            scopes,
            ...(options.description ? { description: options.description } : {}),
            ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
          });
          print(
            output,
            globals(command).json,
            { ...created, role: options.role, scopes },
            () => created.token,
          );
        });
      },
    );
  return token;
}
