/** The one way the registry's collaborators are put together (the app, the bench and the tests). */
import { auditLog, type AuditLog } from "../audit/index.js";
import type { IssueRequest, IssuedCertificate } from "../ca/index.js";
import type { Clock } from "../domain/index.js";
import { outbox } from "../events/index.js";
import { policyService } from "../policy/index.js";
import type { Database } from "../store/index.js";
import { manufacturerService } from "./manufacturers.js";
import { profileCatalog } from "./profile-catalog.js";
import type { RegistryDeps } from "./registration.js";

export function registryDeps(parts: {
  readonly database: Database;
  readonly clock: Clock;
  /** The authority's signing of an authorized order. */
  readonly issue: (order: IssueRequest) => Promise<IssuedCertificate>;
  /** The app's audit log; a new one on the database otherwise. */
  readonly audit?: AuditLog | undefined;
}): RegistryDeps {
  const { database, clock } = parts;
  const audit = parts.audit ?? auditLog({ database, clock });
  return {
    database,
    clock,
    audit,
    outbox: outbox(database),
    policies: policyService({ database, audit, catalog: profileCatalog }),
    manufacturers: manufacturerService({ database, audit }),
    issue: parts.issue,
  };
}
