/**
 * Versioned policy (issue 15): applying a document makes the next version, checked whole first,
 * written with its audit leaf in one transaction. The version in force is cached; a node notices a
 * version another node applied within `refreshMs`, and the node that applied it at once. Every
 * decision and every certificate records the version it was made under.
 */
import { createHash } from "node:crypto";
import type { AuditLog } from "../audit/index.js";
import { KeyfleetError } from "../domain/index.js";
import { policyRepository, type Database, type PolicyVersionRow } from "../store/index.js";
import { ActivePolicy, builtInPolicyVersion } from "./active-policy.js";
import { authorize, type Caller } from "./authorize.js";
import { isScoped } from "./scopes.js";
import { unifiedDiff } from "./line-diff.js";
import { checkPolicyDocument, type ProfileCatalog } from "./policy-document.js";

/** How stale a node's idea of the version in force may be. */
const refreshMs = 1_000;
const maxComment = 500;

export interface PolicyServiceDeps {
  readonly database: Database;
  readonly audit: AuditLog;
  readonly catalog: ProfileCatalog;
}

/** A version as it is shown: its document only when asked for one version. */
export interface PolicyVersionView {
  readonly version: number;
  /** Null for the built-in version 0, which has no document. */
  readonly sha256: string | null;
  readonly comment: string | null;
  readonly createdBy: string;
  readonly createdAt: string | null;
  /** Only when one version is asked for; null for version 0. */
  readonly document?: string | null;
}

export function policyService(deps: PolicyServiceDeps) {
  const versions = policyRepository(deps.database.db);
  let cached: { policy: ActivePolicy; checkedAt: number } | undefined;
  let loading: Promise<ActivePolicy> | undefined;

  async function load(): Promise<ActivePolicy> {
    const latest = await versions.latestVersion();
    if (cached && cached.policy.version === latest) return cached.policy;
    if (latest === builtInPolicyVersion) return new ActivePolicy(builtInPolicyVersion, undefined);
    const row = await versions.byVersion(latest);
    if (!row) throw new KeyfleetError("internal", `policy version ${latest} vanished`);
    // A stored version passed these checks when it was applied; a failure now is a defect.
    return new ActivePolicy(latest, checkPolicyDocument(row.document, deps.catalog));
  }

  async function byVersion(version: number): Promise<PolicyVersionRow> {
    if (!Number.isSafeInteger(version) || version < 1) {
      throw new KeyfleetError(
        "malformed-request",
        `a policy version is a whole number from 1, got ${version}`,
      );
    }
    const row = await versions.byVersion(version);
    if (!row) {
      const latest = await versions.latestVersion();
      throw new KeyfleetError(
        "not-found",
        latest === 0
          ? `no policy version ${version}: no policy was ever applied (the built-in rules are version 0)`
          : `no policy version ${version}; the latest is ${latest}`,
      );
    }
    return row;
  }

  return {
    /** The version in force (the built-in version 0 until a document is applied). */
    async current(): Promise<ActivePolicy> {
      if (cached && Date.now() - cached.checkedAt < refreshMs) return cached.policy;
      loading ??= load()
        .then((policy) => {
          cached = { policy, checkedAt: Date.now() };
          return policy;
        })
        .finally(() => (loading = undefined));
      return loading;
    },

    /** Checks a document without applying it (`policy apply --dry-run`). */
    check(caller: Caller, document: string): void {
      fleetWide(caller, "policy.write");
      checkPolicyDocument(document, deps.catalog);
    },

    /**
     * Makes `document` the next version; a document that fails any check changes nothing, and one
     * the latest version already holds (byte for byte) is that version again (`unchanged`).
     */
    async apply(
      caller: Caller,
      document: string,
      comment?: string,
    ): Promise<PolicyVersionView & { readonly unchanged: boolean }> {
      fleetWide(caller, "policy.write");
      if (comment !== undefined && (comment.length > maxComment || /[\p{Cc}\p{Cf}]/u.test(comment))) {
        throw new KeyfleetError(
          "malformed-request",
          `a comment is one line of at most ${maxComment} printable characters`,
        );
      }
      const checked = checkPolicyDocument(document, deps.catalog);
      const sha256 = createHash("sha256").update(document, "utf8").digest();
      const { row, appended } = await deps.database.transaction(async (tx) => {
        const outcome = await policyRepository(tx).append({
          document,
          sha256,
          comment: comment ?? null,
          created_by: caller.actor,
        });
        if (!outcome.appended) return outcome;
        const applied = outcome.row;
        await deps.audit.append(tx, [
          {
            type: "policy.applied",
            actor: caller.actor,
            subject: `policy:${applied.version}`,
            details: {
              version: applied.version,
              sha256: sha256.toString("hex"),
              comment: comment ?? null,
              rules: checked.document.issuance.map((r) => r.rule),
              authorizationPolicies: Object.keys(checked.forbids),
            },
          },
        ]);
        return outcome;
      });
      cached = { policy: new ActivePolicy(row.version, checked), checkedAt: Date.now() };
      return { ...viewOf(row, false), unchanged: !appended };
    },

    /**
     * One version with its document; the version in force when `version` is undefined, which is
     * the built-in version 0 (no document) until one is applied.
     */
    async show(caller: Caller, version?: number): Promise<PolicyVersionView> {
      fleetWide(caller, "policy.read");
      const wanted = version ?? (await versions.latestVersion());
      if (wanted === builtInPolicyVersion && version === undefined) return builtInView;
      return viewOf(await byVersion(wanted), true);
    },

    /** Versions, newest first. */
    async history(caller: Caller, options: { before?: number | undefined; limit?: number | undefined } = {}) {
      fleetWide(caller, "policy.read");
      const page = await versions.history(options);
      return { items: page.items.map((r) => viewOf(r, false)), next: page.next };
    },

    /** A unified diff from version `a` to version `b` ("" when they say the same). */
    async diff(caller: Caller, a: number, b: number): Promise<string> {
      fleetWide(caller, "policy.read");
      const [from, to] = [await byVersion(a), await byVersion(b)];
      return unifiedDiff(from.document, to.document, [`policy version ${a}`, `policy version ${b}`]);
    },
  };
}

export type PolicyService = ReturnType<typeof policyService>;

/** Version 0: no document, so roles and scopes decide, and each profile's defaults apply. */
const builtInView: PolicyVersionView = {
  version: builtInPolicyVersion,
  sha256: null,
  comment: "the built-in policy: roles and scopes decide; each profile's defaults apply",
  createdBy: "keyfleet",
  createdAt: null,
  document: null,
};

/** The policy governs the whole fleet: only an unscoped caller reads or changes it. */
function fleetWide(caller: Caller, permission: "policy.read" | "policy.write"): void {
  authorize(caller, permission);
  if (isScoped(caller.scopes)) {
    throw new KeyfleetError(
      "forbidden",
      "the policy governs the whole fleet: a scoped token may not read or change it; use an unscoped token",
    );
  }
}

function viewOf(
  row: Omit<PolicyVersionRow, "document"> & { document?: string },
  withDocument: boolean,
): PolicyVersionView {
  return {
    version: row.version,
    sha256: Buffer.from(row.sha256).toString("hex"),
    comment: row.comment,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    ...(withDocument && row.document !== undefined ? { document: row.document } : {}),
  };
}
