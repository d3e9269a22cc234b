import type { Command } from "commander";
import { KeyfleetCommand } from "../program.js";
import { execute, globals } from "../execute.js";
import { print, type CliIo } from "../io.js";
import { integerOption, limitOption, readText } from "../parse.js";
import type { OutputOf } from "../operations/index.js";

type VersionJson = OutputOf<"policy.show">;

const versionOption = (flag: string, value: string) => integerOption(flag, value, 0, 2 ** 31 - 1);

function versionLine(v: VersionJson): string {
  const when = v.createdAt ?? "built in";
  const digest = v.sha256 === null ? "" : `  sha256:${v.sha256.slice(0, 16)}…`;
  return `version ${v.version}  ${when}  by ${v.createdBy}${digest}${v.comment ? `  ${v.comment}` : ""}`;
}

export function policyCommand(io: CliIo): Command {
  const policy = new KeyfleetCommand("policy").description(
    "the versioned policy: issuance rules and authorization policies (Cedar), one document per version",
  );
  policy
    .command("apply")
    .argument("<file>", "a policy document, YAML or JSON (format policy/v1; see the README)")
    .description("check the document whole and make it the next version (a refused one changes nothing)")
    .option("--comment <text>", "why, kept with the version and in the audit log")
    .option("--dry-run", "check the document only")
    .action(async (file: string, o: { comment?: string; dryRun?: boolean }, command: Command) => {
      const result = await execute(command, io, "policy.apply", {
        document: await readText(file),
        comment: o.comment,
        dryRun: o.dryRun,
      });
      print(io, globals(command).json, result, () =>
        !result.applied
          ? `${file}: the policy is valid (not applied)`
          : result.version.unchanged
            ? `unchanged: version ${result.version.version} already holds this document`
            : `applied: ${versionLine(result.version)}`,
      );
    });
  policy
    .command("show")
    .description("the document of the version in force, or of --version N")
    .option("--version <n>", "a version from `policy history`")
    .action(async (o: { version?: string }, command: Command) => {
      const v = await execute(command, io, "policy.show", {
        version: o.version === undefined ? undefined : versionOption("--version", o.version),
      });
      print(io, globals(command).json, v, () =>
        v.document ? `# ${versionLine(v)}\n${v.document.replace(/\n$/, "")}` : `# ${versionLine(v)}`,
      );
    });
  policy
    .command("history")
    .description("the versions, newest first")
    .option("--limit <n>", "page size (1–500)", "50")
    .option("--before <version>", "continue before this version (`next` of the previous page)")
    .action(async (o: { limit: string; before?: string }, command: Command) => {
      const page = await execute(command, io, "policy.history", {
        limit: limitOption(o.limit),
        before: o.before === undefined ? undefined : versionOption("--before", o.before),
      });
      print(io, globals(command).json, page, () =>
        page.items.length === 0
          ? "no policy was applied: the built-in version 0 is in force"
          : page.items.map(versionLine).join("\n"),
      );
    });
  policy
    .command("diff")
    .argument("<a>", "a version")
    .argument("<b>", "another version")
    .description("what changed from version A to version B (a unified diff)")
    .action(async (a: string, b: string, _o, command: Command) => {
      const d = await execute(command, io, "policy.diff", {
        from: versionOption("A", a),
        to: versionOption("B", b),
      });
      print(
        io,
        globals(command).json,
        d,
        () => d.diff.replace(/\n$/, "") || `versions ${a} and ${b} say the same`,
      );
    });
  return policy;
}
