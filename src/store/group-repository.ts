/**
 * Device groups: each (tenant, group) some device names, recorded in the transaction that
 * registers it, and listed by key with the number of devices in each, counted inside a scope.
 */
import { sql, type Kysely } from "kysely";
import { jsonRows } from "./json-rows.js";
import { pageLimit } from "./paging.js";
import type { Tables } from "./schema.js";

export interface GroupRow {
  readonly tenant: string;
  readonly name: string;
  readonly createdAt: Date;
  /** Devices in the group (any state), inside the scope it was listed for. */
  readonly devices: number;
}

export interface GroupQuery {
  /** The last (tenant, name) of the previous page. */
  readonly after?: { readonly tenant: string; readonly name: string } | undefined;
  readonly limit?: number | undefined;
  /** A scoped caller's scope: values of one key are alternatives. */
  readonly scope?: Readonly<Record<string, readonly string[]>> | undefined;
}

export function groupRepository(db: Kysely<Tables>) {
  return {
    /** Records these groups (those already there stay as they were; no row is locked). */
    async addAll(groups: readonly { readonly tenant: string; readonly name: string }[]): Promise<void> {
      if (groups.length === 0) return;
      await sql`insert into device_groups (tenant, name)
        select r->>0, r->>1 from ${jsonRows(groups.map((g) => [g.tenant, g.name]))}
        on conflict do nothing`.execute(db);
    },
    /**
     * Groups by (tenant, name) with their device counts; a group none of whose devices is inside
     * the scope is not listed. Each count is the group's devices, found through the groups index.
     */
    async list(options: GroupQuery): Promise<GroupRow[]> {
      const { tenant, region } = options.scope ?? {};
      const inTenant = tenant?.length ? sql`and g.tenant in (${sql.join(tenant)})` : sql``;
      const inRegion = region?.length ? sql`and d.region in (${sql.join(region)})` : sql``;
      const after = options.after
        ? sql`and (g.tenant, g.name) > (${options.after.tenant}, ${options.after.name})`
        : sql``;
      const { rows } = await sql<{ tenant: string; name: string; created_at: Date; n: string | number }>`
        select g.tenant, g.name, g.created_at, c.n
        from device_groups g
        cross join lateral (
          select count(*) as n from devices d
          where d.tenant = g.tenant and d.groups @> jsonb_build_array(g.name) ${inRegion}
        ) c
        where c.n > 0 ${inTenant} ${after}
        order by g.tenant, g.name
        limit ${pageLimit(options.limit)}`.execute(db);
      return rows.map((r) => ({
        tenant: r.tenant,
        name: r.name,
        createdAt: r.created_at,
        devices: Number(r.n),
      }));
    },
  };
}

export type GroupRepository = ReturnType<typeof groupRepository>;
