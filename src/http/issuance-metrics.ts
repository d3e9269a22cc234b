/**
 * Issuance metrics: certificates issued or refused, and how long issuance took, by profile and
 * outcome. Both labels come from closed sets (the end-entity profiles or `unknown`; `issued` or an
 * ErrorCode), so no request can grow the number of series.
 */
import { Counter, Histogram, type Registry } from "prom-client";
import { defaultProfileFor } from "../ca/index.js";
import type { ErrorCode } from "../domain/index.js";
import { problemOf } from "./problem.js";
import { endEntityProfileNames } from "./schemas.js";

export type IssuanceOutcome = "issued" | ErrorCode;

export interface IssuanceMetrics {
  /** Runs one issuance request, counting and timing it under its profile (bound: for a device) and outcome. */
  measure<T>(profile: string | undefined, bound: boolean, issue: () => Promise<T>): Promise<T>;
}

export function issuanceMetrics(registry: Registry): IssuanceMetrics {
  const labelNames = ["profile", "outcome"] as const;
  const issued = new Counter({
    name: "keyfleet_certificates_issued_total",
    help: "Issuance requests by profile and outcome (issued, or the refusal's error code)",
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "keyfleet_issuance_duration_seconds",
    help: "Time to answer an issuance request, by profile and outcome",
    labelNames,
    // Issuance is a CSR check and a signature plus a group commit: milliseconds, unless queued.
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return {
    async measure(profile, bound, issue) {
      const labels = { profile: profileLabel(profile ?? defaultProfileFor(bound)), outcome: "issued" };
      const stop = duration.startTimer();
      try {
        return await issue();
      } catch (e) {
        // The code the caller is answered with: a KeyfleetError's code, or `internal`.
        labels.outcome = problemOf(e).code satisfies IssuanceOutcome;
        throw e;
      } finally {
        stop(labels);
        issued.inc(labels);
      }
    },
  };
}

function profileLabel(name: string): string {
  return endEntityProfileNames.includes(name) ? name : "unknown";
}
