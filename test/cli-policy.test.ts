/** `keyfleet policy apply|show|history|diff` on a data directory: tables by default, --json, one-line refusals. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { runCli, type CliResult } from "./support/cli.js";

const env = { KEYFLEET_PASSPHRASE: "cli policy passphrase" };
const document = `keyfleet: policy/v1
issuance:
  - rule: sensors
    when: resource.groups.contains("sensors")
    validityDays: 30
`;

let data: string;
const kf = (args: readonly string[]): Promise<CliResult> => runCli(["--data", data, ...args], env);
const file = async (name: string, text: string) => {
  const path = join(data, `${name}.yaml`);
  await writeFile(path, text);
  return path;
};

beforeAll(async () => {
  data = await mkdtemp(join(tmpdir(), "keyfleet-cli-policy-"));
  expect((await kf(["init"])).code).toBe(0);
});
afterAll(() => rm(data, { recursive: true, force: true }));

test("show, apply, history and diff", async () => {
  expect((await kf(["policy", "show"])).stdout).toMatch(/^# version 0 {2}built in {2}by keyfleet/);
  expect((await kf(["policy", "history"])).stdout).toBe(
    "no policy was applied: the built-in version 0 is in force\n",
  );

  const v1 = await file("v1", document);
  expect((await kf(["policy", "apply", v1, "--dry-run"])).stdout).toBe(
    `${v1}: the policy is valid (not applied)\n`,
  );
  const applied = await kf(["policy", "apply", v1, "--comment", "sensors for 30 days"]);
  expect(applied.stdout).toMatch(
    /^applied: version 1 {2}\S+ {2}by cli:\S+ {2}sha256:[0-9a-f]{16}… {2}sensors for 30 days\n$/,
  );
  expect((await kf(["policy", "apply", v1])).stdout).toBe(
    "unchanged: version 1 already holds this document\n",
  );
  const v2 = await file("v2", document.replace("30", "60"));
  expect((await kf(["policy", "apply", v2, "--json"])).stdout).toContain('"version": 2');

  const shown = await kf(["policy", "show", "--version", "1"]);
  expect(shown.stdout).toBe(`# ${applied.stdout.slice("applied: ".length, -1)}\n${document}`);
  expect(
    (await kf(["policy", "history"])).stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => l.slice(0, 9)),
  ).toEqual(["version 2", "version 1"]);
  expect((await kf(["policy", "diff", "1", "2"])).stdout).toContain(
    "-    validityDays: 30\n+    validityDays: 60\n",
  );
  expect((await kf(["policy", "diff", "2", "2"])).stdout).toBe("versions 2 and 2 say the same\n");
});

test("a bad document, a missing file or version: one line, exit 1, nothing applied", async () => {
  const before = (await kf(["policy", "show", "--json"])).stdout;
  const bad = await file("bad", "keyfleet: policy/v1\nissuance: [{rule: a, when: 'resource.tenant == 1'}]");
  for (const [args, message] of [
    [
      ["policy", "apply", bad],
      /^keyfleet: the policy is refused: issuance rule "a" .*Long and String.* \(invalid-policy\)\n$/,
    ],
    [["policy", "apply", join(data, "nope.yaml")], /^keyfleet: no file .*nope\.yaml \(not-found\)\n$/],
    [
      ["policy", "show", "--version", "77"],
      /^keyfleet: no policy version 77; the latest is \d+ \(not-found\)\n$/,
    ],
    [["policy", "diff", "1", "x"], /^keyfleet: B must be a whole number/],
  ] as const) {
    const r = await kf(args);
    expect(r.stderr, args.join(" ")).toMatch(message);
    expect(r.stdout).toBe("");
    expect(r.code).toBe(1);
  }
  expect((await kf(["policy", "show", "--json"])).stdout).toBe(before);
});
