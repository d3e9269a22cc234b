/**
 * Public test-vector suites, read in place from `../shared/vectors/<suite>` beside the project's
 * root (they are not copied into the project; their READMEs give origin and licence). Where a
 * folder is absent, a test names it in its title and skips.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../shared/vectors/", import.meta.url));

/** The suite's folder, or undefined when this checkout has no `../shared/vectors/<suite>`. */
export function vectorSuite(suite: string): string | undefined {
  const dir = join(root, suite);
  return existsSync(dir) ? dir : undefined;
}

/** " (skipped: ../shared/vectors/<suite> is absent)" when it is, for a describe's title. */
export function skipNote(suite: string): string {
  return vectorSuite(suite) ? "" : ` (skipped: ../shared/vectors/${suite} is absent)`;
}

export function readVectors<T>(suite: string, file: string): T {
  return JSON.parse(readFileSync(join(vectorSuite(suite)!, file), "utf8")) as T;
}
