/**
 * Every installed package supports the Node we run on. npm only warns (EBADENGINE) when a
 * dependency's `engines.node` excludes it, and a dependency that declares Node 22 may use what
 * Node 20 lacks; package.json `overrides` pins such a package back (cookie 1.1.1: fastify's
 * light-my-request asks for cookie ^2, which declares node >=22, and calls only
 * stringifySetCookie({ name, value }), which 1.1.1 has).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { satisfies } from "./support/node-range.js";

const root = join(import.meta.dirname, "..");

interface LockEntry {
  readonly version?: string;
  readonly engines?: { readonly node?: string } | readonly string[];
  readonly os?: readonly string[];
  readonly cpu?: readonly string[];
  readonly libc?: readonly string[];
}

/**
 * Whether npm installs this entry on this machine: the lock file lists the optional builds of
 * every platform (esbuild, rolldown, lightningcss), and npm skips those whose os, cpu or libc do
 * not match (npm-install-checks: a list of names, or of "!name" exclusions).
 */
function installsHere(entry: LockEntry, libc: string): boolean {
  const fits = (list: readonly string[] | undefined, value: string) =>
    list === undefined ||
    list.includes(value) ||
    (!list.includes(`!${value}`) && list.every((name) => name.startsWith("!")));
  return (
    fits(entry.os, process.platform) &&
    fits(entry.cpu, process.arch) &&
    (entry.libc === undefined || libc === "" || fits(entry.libc, libc))
  );
}

test("no installed package's engines.node excludes the running Node", async () => {
  const lock = JSON.parse(await readFile(join(root, "package-lock.json"), "utf8")) as {
    packages: Record<string, LockEntry>;
  };
  const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
  const libc = process.platform === "linux" ? (report.header?.glibcVersionRuntime ? "glibc" : "musl") : "";
  const checked: string[] = [];
  const excluded: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!installsHere(entry, libc)) continue;
    if (Array.isArray(entry.engines)) throw new Error(`${path}: engines in the old array form`);
    const range = (entry.engines as { node?: string } | undefined)?.node;
    if (range === undefined) continue;
    checked.push(path);
    if (!satisfies(process.versions.node, range))
      excluded.push(`${path || "keyfleet"}@${entry.version} (node ${range})`);
  }
  expect(checked.length).toBeGreaterThan(50); // the walk really read the lock file
  expect(excluded, `these packages do not support Node ${process.versions.node}`).toEqual([]);
});

describe("the engines range reader", () => {
  test.each([
    ["20.20.2", ">=20.19", true],
    ["20.18.9", ">=20.19", false],
    ["20.20.2", ">=22", false],
    ["20.20.2", ">= 10.x", true],
    ["20.20.2", "*", true],
    ["20.20.2", "20 || >=22", true],
    ["21.0.0", "20 || >=22", false],
    ["20.20.2", "18 || 20 || >=22", true],
    ["20.20.2", "^20.19.0 || >=22.12.0", true],
    ["20.18.0", "^20.19.0 || >=22.12.0", false],
    ["22.11.0", "^20.19.0 || >=22.12.0", false],
    ["23.1.0", "^20.19.0 || ^22.13.0 || >=23.5.0", false],
    ["20.20.2", "^18.18.0 || ^20.9.0 || >=21.1.0", true],
    ["20.20.2", "^12.0.0 || ^14.0.0 || >=16.0.0", true],
    ["20.20.2", "^10 || ^12 || ^13.7 || ^14 || >=15.0.1", true],
    ["13.6.9", "^10 || ^12 || ^13.7 || ^14 || >=15.0.1", false],
    ["20.20.2", "^16 || ^18", false],
    ["0.2.9", "^0.2.3", true],
    ["0.3.0", "^0.2.3", false],
    ["0.0.4", "^0.0.3", false],
    ["1.2.9", "~1.2.3", true],
    ["1.3.0", "~1.2.3", false],
    ["1.9.0", "~1", true],
    ["20.0.0", ">20", false],
    ["21.0.0", ">20", true],
    ["20.1.0", ">20.0.5", true],
    ["20.9.9", "<=20.9", true],
    ["20.10.0", "<=20.9", false],
    ["19.9.9", ">=18 <20", true],
    ["20.0.0", ">=18 <20", false],
    ["20.20.2", "20.20.2", true],
    ["20.20.3", "=20.20.2", false],
  ])("%s against %j is %s", (version, range, expected) => {
    expect(satisfies(version, range)).toBe(expected);
  });

  test.each(["1.2.3 - 2.3.4", ">=20.0.0-rc.1", "node >= 20", "1.x.3"])("refuses to guess at %j", (range) => {
    expect(() => satisfies("20.20.2", range)).toThrow(/engines range/);
  });
});
