import type { Command } from "commander";
import { KeyfleetCommand } from "../program.js";
import { execute, globals } from "../execute.js";
import { print, type CliIo } from "../io.js";
import { limitOption } from "../parse.js";
import type { OutputOf } from "../operations/index.js";

type GroupPage = OutputOf<"group.list">;

/** A table: tenant, group, devices (right-aligned), created; and the next page's cursor. */
export function groupTable(page: GroupPage): string {
  const header = { tenant: "TENANT", name: "GROUP", devices: "DEVICES", createdAt: "CREATED" };
  const rows = [header, ...page.items.map((g) => ({ ...g, devices: String(g.devices) }))];
  const width = (k: keyof typeof header) => Math.max(...rows.map((r) => r[k].length));
  const [t, n, d] = [width("tenant"), width("name"), width("devices")];
  const lines = rows.map(
    (r) => `${r.tenant.padEnd(t)}  ${r.name.padEnd(n)}  ${r.devices.padStart(d)}  ${r.createdAt}`,
  );
  if (page.next !== null) lines.push(`(more: --after ${page.next})`);
  return lines.join("\n");
}

export function groupCommand(io: CliIo): Command {
  const group = new KeyfleetCommand("group").description(
    "device groups (as devices name them at registration)",
  );
  group
    .command("list")
    .description("groups by tenant and name, each with its number of devices")
    .option("--limit <n>", "page size (1–500)", "50")
    .option("--after <cursor>", "continue after this cursor (`next` of the previous page)")
    .action(async (o: { limit: string; after?: string }, command: Command) => {
      const page = await execute(command, io, "group.list", { limit: limitOption(o.limit), after: o.after });
      print(io, globals(command).json, page, () => groupTable(page));
    });
  return group;
}
