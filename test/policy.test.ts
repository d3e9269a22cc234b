/**
 * Versioned policy on both stores: a document applied becomes the next version with its audit leaf;
 * a refused one changes nothing; the version in force narrows what roles allow (its forbids) and
 * decides each device's certificate (its issuance rules); every decision records its version.
 */
import { X509Certificate } from "node:crypto";
import { sql } from "kysely";
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from "vitest";
import type { Authority } from "../src/ca/index.js";
import { systemClock } from "../src/domain/index.js";
import { systemCaller, type Caller, type PolicyService } from "../src/policy/index.js";
import { createRegistry, registryDeps, type Registry } from "../src/registry/index.js";
import { initializedAuthority } from "./support/authority.js";
import { forEachDatabase, testDatabase, type TestDatabase } from "./support/databases.js";
import { opensslCsr, workdir, type Workdir } from "./support/openssl.js";
import { lifecycleCounts } from "./support/registry.js";
import { refusal } from "./support/refusal.js";

const admin: Caller = { actor: "token:admin", role: "admin", scopes: {} };
const policyAdmin: Caller = { actor: "token:policy", role: "policy-admin", scopes: {} };
const operator: Caller = { actor: "token:operator", role: "operator", scopes: {} };
const officer: Caller = { actor: "token:officer", role: "security-officer", scopes: {} };

const document = `# fleet policy
keyfleet: policy/v1
issuance:
  - rule: sensors
    when: resource.groups.contains("sensors")
    validityDays: 30
    keyAlgorithms: [p256]
    rotationDays: 20
  - rule: attested
    when: resource.groups.contains("secure")
    attestation: required
authorization: |
  @id("critical-needs-officer")
  forbid (principal, action == Keyfleet::Action::"device.lifecycle", resource)
  when { resource.groups.contains("critical") && principal.role != "security-officer" };
  @id("frozen-tenant")
  forbid (principal, action == Keyfleet::Action::"device.register", resource)
  when { resource.tenant == "frozen" };
`;

let dir: Workdir;
let p256: string;
let rsa: string;
beforeAll(async () => {
  dir = await workdir();
  p256 = await opensslCsr(dir, "p256", "/CN=policy");
  rsa = await opensslCsr(dir, "rsa2048", "/CN=policy");
});
afterAll(() => dir.dispose());

forEachDatabase("versioned policy", (kind) => {
  let t: TestDatabase;
  let authority: Authority;
  let registry: Registry;
  let policies: PolicyService;

  beforeEach(async () => {
    t = await testDatabase(kind);
    authority = await initializedAuthority(t.database);
    const deps = registryDeps({ database: t.database, clock: systemClock, issue: authority.issue });
    registry = createRegistry(deps);
    policies = deps.policies;
  });
  afterEach(() => t.dispose());

  const leaves = async () =>
    (await sql<{ n: number }>`select count(*)::int as n from audit_leaves`.execute(t.database.db)).rows[0]!.n;

  test("a document becomes the next version, kept as written, with its audit leaf", async () => {
    expect(await policies.show(admin)).toMatchObject({ version: 0, document: null });
    const v1 = await policies.apply(policyAdmin, document, "first rules");
    expect(v1).toMatchObject({ version: 1, comment: "first rules", createdBy: "token:policy" });
    const before = await leaves();
    expect(await policies.apply(policyAdmin, document, "again")).toMatchObject({
      version: 1,
      unchanged: true,
    });
    expect(await leaves()).toBe(before); // the same document again: no version, no leaf
    const second = document.replace("validityDays: 30", "validityDays: 60");
    const v2 = await policies.apply(policyAdmin, second);
    expect(v2.version).toBe(2);
    expect((await policies.show(admin)).document).toBe(second);
    expect((await policies.show(admin, 1)).document).toBe(document);
    expect((await policies.history(admin)).items.map((v) => v.version)).toEqual([2, 1]);
    expect(await policies.diff(admin, 1, 2)).toContain("-    validityDays: 30\n+    validityDays: 60\n");
    const entries = (
      await sql<{ entry: string }>`select entry from audit_leaves order by idx`.execute(t.database.db)
    ).rows.map((r) => JSON.parse(r.entry) as { type: string; subject: string; details: { sha256: string } });
    const applied = entries.filter((e) => e.type === "policy.applied");
    expect(applied.map((e) => e.subject)).toEqual(["policy:1", "policy:2"]);
    expect(applied[0]!.details.sha256).toBe(v1.sha256);
  });

  test("a refused document, a wrong role or a scoped caller changes nothing", async () => {
    await policies.apply(policyAdmin, document);
    const before = await leaves();
    const bad = await refusal(
      policies.apply(policyAdmin, "keyfleet: policy/v1\nissuance: [{rule: a, when: 'resource.tenant == 1'}]"),
    );
    expect(bad.code).toBe("invalid-policy");
    expect((await refusal(policies.apply(operator, document))).code).toBe("forbidden");
    const scoped: Caller = { ...policyAdmin, scopes: { tenant: ["acme"] } };
    expect((await refusal(policies.apply(scoped, document))).message).toMatch(/governs the whole fleet/);
    expect((await refusal(policies.show(operator))).code).toBe("forbidden");
    expect((await policies.show(admin)).version).toBe(1);
    expect(await leaves()).toBe(before);
    expect((await refusal(policies.show(admin, 9))).message).toBe("no policy version 9; the latest is 1");
  });

  test("a forbid narrows what a role allows, and the transition records the version", async () => {
    const critical = await registry.register({ serialNumber: "C-1", groups: ["critical"] }, admin);
    const plain = await registry.register({ serialNumber: "P-1" }, admin);
    await registry.issue({ csr: p256, deviceId: critical.id }, admin);
    await registry.issue({ csr: p256, deviceId: plain.id }, admin);
    await policies.apply(policyAdmin, document);
    const before = await lifecycleCounts(t.database);
    const e = await refusal(registry.apply(critical.id, { kind: "retire" }, operator));
    expect(e.code).toBe("forbidden");
    expect(e.message).toMatch(/policy version 1 forbids retire for device ".*" \("critical-needs-officer"\)/);
    expect(await lifecycleCounts(t.database)).toEqual(before);
    const retired = await registry.apply(critical.id, { kind: "retire" }, officer);
    expect(retired.event.policyVersion).toBe(1);
    expect((await registry.apply(plain.id, { kind: "retire" }, operator)).device.state).toBe(
      "decommissioning",
    );
  });

  test("a forbid refuses a registration, and a batch with it is refused whole", async () => {
    await policies.apply(policyAdmin, document);
    const before = await lifecycleCounts(t.database);
    const e = await refusal(
      registry.registerMany([{ serialNumber: "F-0" }, { serialNumber: "F-1", tenant: "frozen" }], admin),
    );
    expect(e.message).toMatch(/^device 1 of the batch: policy version 1 forbids register .*"frozen-tenant"/);
    expect(await lifecycleCounts(t.database)).toEqual(before);
  });

  test("an issuance rule decides the key algorithm and the validity, and the certificate records the version", async () => {
    const sensor = await registry.register({ serialNumber: "S-1", groups: ["sensors"] }, admin);
    await policies.apply(policyAdmin, document);
    const before = await lifecycleCounts(t.database);
    const wrongKey = await refusal(registry.issue({ csr: rsa, deviceId: sensor.id }, admin));
    expect(wrongKey.code).toBe("policy-violation");
    expect(wrongKey.message).toBe(
      'policy version 1, rule "sensors": the key must be p256; this CSR\'s key is rsa2048',
    );
    const tooLong = await refusal(
      registry.issue({ csr: p256, deviceId: sensor.id, validitySeconds: 31 * 86_400 }, admin),
    );
    expect(tooLong.message).toMatch(
      /rule "sensors": a certificate for device .* is valid at most 30 days, not 31 days$/,
    );
    expect(await lifecycleCounts(t.database)).toEqual(before);

    const issued = await registry.issue({ csr: p256, deviceId: sensor.id }, admin);
    const x509 = new X509Certificate(issued.pem);
    const days = (Date.parse(x509.validTo) - Date.parse(x509.validFrom)) / 86_400_000;
    expect(Math.round(days)).toBe(30);
    expect(issued.policyVersion).toBe(1);
    const [event] = (await registry.history(sensor.id, admin)).items.slice(-1);
    expect(event).toMatchObject({ command: "issue", policyVersion: 1 });
  });

  test("a device no rule holds for gets no certificate; a rule that needs attestation refuses one without", async () => {
    const other = await registry.register({ serialNumber: "O-1" }, admin);
    const secure = await registry.register({ serialNumber: "X-1", groups: ["secure"] }, admin);
    await policies.apply(policyAdmin, document);
    const none = await refusal(registry.issue({ csr: p256, deviceId: other.id }, admin));
    expect(none.message).toMatch(/policy version 1 has no issuance rule for device/);
    const attested = await refusal(registry.issue({ csr: p256, deviceId: secure.id }, admin));
    expect(attested.code).toBe("policy-violation");
    expect(attested.message).toMatch(/rule "attested": .* only with attestation evidence/);
  });

  test("another node's service sees a new version within its refresh", async () => {
    const elsewhere = registryDeps({ database: t.database, clock: systemClock, issue: authority.issue });
    expect((await elsewhere.policies.current()).version).toBe(0);
    await policies.apply(policyAdmin, document);
    expect((await policies.current()).version).toBe(1);
    await expect.poll(async () => (await elsewhere.policies.current()).version, { timeout: 10_000 }).toBe(1);
  });

  test("version rows are immutable in the database itself", async () => {
    await policies.apply(policyAdmin, document);
    await expect(sql`update policy_versions set document = 'x'`.execute(t.database.db)).rejects.toThrow(
      /policy versions are immutable/,
    );
    await expect(sql`delete from policy_versions`.execute(t.database.db)).rejects.toThrow(/immutable/);
    expect((await policies.show(systemCaller)).document).toBe(document);
  });
});
