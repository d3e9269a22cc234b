/**
 * Device groups: every (tenant, group) a registered device names, each with its number of devices.
 * A scoped caller sees the groups with devices inside its scope, counted inside it.
 */
import { KeyfleetError } from "../domain/index.js";
import { authorize, listScope, type Caller } from "../policy/index.js";
import { groupRepository, type Database } from "../store/index.js";

export interface DeviceGroup {
  readonly tenant: string;
  readonly name: string;
  readonly createdAt: Date;
  /** Devices in the group (any state) inside the caller's scope. */
  readonly devices: number;
}

export interface GroupPage {
  readonly items: DeviceGroup[];
  /** The cursor of the next page (`after`), if there may be one. */
  readonly next: string | undefined;
}

export async function listGroups(
  database: Database,
  caller: Caller,
  options: { readonly after?: string | undefined; readonly limit?: number | undefined },
): Promise<GroupPage> {
  authorize(caller, "device.read");
  const limit = options.limit ?? 50;
  const items = await groupRepository(database.db).list({
    after: options.after === undefined ? undefined : cursorKey(options.after),
    limit,
    scope: listScope(caller),
  });
  const last = items[items.length - 1];
  return { items, next: items.length === limit && last ? cursorOf(last) : undefined };
}

/** A page's cursor: its last group's (tenant, name), opaque to clients. */
function cursorOf(g: { readonly tenant: string; readonly name: string }): string {
  return Buffer.from(JSON.stringify([g.tenant, g.name])).toString("base64url");
}

function cursorKey(after: string): { tenant: string; name: string } {
  try {
    const key: unknown = JSON.parse(Buffer.from(after, "base64url").toString("utf8"));
    if (Array.isArray(key) && key.length === 2 && key.every((k) => typeof k === "string")) {
      return { tenant: key[0] as string, name: key[1] as string };
    }
  } catch {
    // not JSON: refused below, like any other cursor we did not give out
  }
  throw new KeyfleetError("malformed-request", "after must be the `next` cursor of an earlier page");
}

/** A group as JSON (API and CLI). */
export function groupJson(g: DeviceGroup) {
  return { ...g, createdAt: g.createdAt.toISOString() };
}
export type GroupJson = ReturnType<typeof groupJson>;
