import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, inject, test } from "vitest";
import { adminQuery } from "./support/databases.js";
import { keyfleet } from "./support/cli.js";

const benchSchemas = async (url: string) =>
  (
    await adminQuery(
      url,
      "select schema_name from information_schema.schemata where schema_name like 'keyfleet\\_bench\\_%'",
    )
  ).rows.map((r: { schema_name: string }) => r.schema_name);

test("keyfleet bench measures both stores in scratch space and leaves nothing behind", async () => {
  const url = inject("postgresUrl");
  const data = await mkdtemp(join(tmpdir(), "keyfleet-bench-cli-"));
  try {
    const before = await benchSchemas(url);
    const res = await keyfleet(["--data", data, "--json", "bench", "--count", "200", "--concurrency", "16"], {
      DATABASE_URL: url,
    });
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout);
    expect(report).toMatchObject({ count: 200, concurrency: 16 });
    expect(report.rawSignaturesPerSecond).toBeGreaterThan(0);
    expect(report.results.map((r: { store: string; audit: boolean }) => `${r.store} ${r.audit}`)).toEqual([
      "pglite true",
      "pglite false",
      "postgres true",
      "postgres false",
    ]);
    for (const r of report.results) {
      expect(r.certificatesPerSecond).toBeGreaterThan(0);
      expect(r.percentOfRawSign).toBeCloseTo(
        (100 * r.certificatesPerSecond) / report.rawSignaturesPerSecond,
        6,
      );
      expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms);
    }
    expect(await readdir(data)).toEqual([]); // the data directory is not touched
    expect(await benchSchemas(url)).toEqual(before); // the scratch schema is dropped
  } finally {
    await rm(data, { recursive: true, force: true });
  }
});

test("keyfleet bench refuses a store it does not know, with one line", async () => {
  const res = await keyfleet(["bench", "--stores", "pglite,oracle"]);
  expect(res.code).toBe(1);
  expect(res.stderr.trim()).toBe(
    'keyfleet: unknown store "oracle": use pglite, postgres or both (invalid-configuration)',
  );
});
