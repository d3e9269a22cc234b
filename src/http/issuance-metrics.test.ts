import { Registry } from "prom-client";
import { expect, test } from "vitest";
import { KeyfleetError } from "../domain/index.js";
import { issuanceMetrics } from "./issuance-metrics.js";

async function series(registry: Registry, name: string) {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (metric?.values ?? []).map((v) => ({ ...v.labels, value: v.value }));
}

test("counts each issuance under its profile and outcome, and passes results and errors through", async () => {
  const registry = new Registry();
  const metrics = issuanceMetrics(registry);
  const refusal = new KeyfleetError("conflict", "request id reused");
  const broken = new Error("the disk is on fire");

  await expect(metrics.measure("tls-server", false, async () => "certificate")).resolves.toBe("certificate");
  await expect(metrics.measure(undefined, true, async () => "certificate")).resolves.toBe("certificate");
  await expect(metrics.measure(undefined, false, async () => "certificate")).resolves.toBe("certificate");
  await expect(metrics.measure("device", true, () => Promise.reject(refusal))).rejects.toBe(refusal);
  await expect(metrics.measure("device", true, () => Promise.reject(broken))).rejects.toBe(broken);

  expect(await series(registry, "keyfleet_certificates_issued_total")).toEqual(
    expect.arrayContaining([
      { profile: "tls-server", outcome: "issued", value: 1 },
      { profile: "device", outcome: "issued", value: 1 }, // no profile named, for a device: the default
      { profile: "client", outcome: "issued", value: 1 }, // no profile named, bound to none
      { profile: "device", outcome: "conflict", value: 1 },
      { profile: "device", outcome: "internal", value: 1 }, // not a KeyfleetError: internal
    ]),
  );
  const counts = (await series(registry, "keyfleet_issuance_duration_seconds")).filter(
    (s) => "le" in s && s.le === "+Inf",
  );
  expect(counts).toHaveLength(5);
  expect(counts.every((s) => s.value === 1)).toBe(true);
});

test("keeps label values in closed sets: a profile it does not know, or a CA's, is `unknown`", async () => {
  const registry = new Registry();
  const metrics = issuanceMetrics(registry);
  for (const profile of ["no-such-profile", "root-ca", "x".repeat(500)]) {
    await metrics.measure(profile, false, async () => undefined);
  }
  expect(await series(registry, "keyfleet_certificates_issued_total")).toEqual([
    { profile: "unknown", outcome: "issued", value: 3 },
  ]);
});
