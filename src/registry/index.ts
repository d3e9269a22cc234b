/**
 * The device registry: devices and their hardware identities, and the one place their lifecycle
 * changes (a transition per transaction, with its evidence, audit leaf and outbox event).
 */
export { deviceIdPattern } from "../domain/index.js";
export { createRegistry, type Registry } from "./registry.js";
export { registryDeps } from "./registry-deps.js";
export { profileCatalog } from "./profile-catalog.js";
export { type Manufacturer, type ManufacturerService } from "./manufacturers.js";
export { deviceJson, type Device } from "./device-record.js";
export { groupJson, type DeviceGroup, type GroupJson, type GroupPage } from "./groups.js";
export { maxRegistrationBatch, type DeviceRegistration, type RegistryDeps } from "./registration.js";
export * as deviceAttributeRules from "./device-attributes.js";
export type { CertificateRequest, EnrollmentTerms } from "./issuance.js";
export {
  lifecycleEventJson,
  operatorCommands,
  type OperatorCommand,
  type LifecycleEventJson,
  type ApplyOptions,
  type LifecycleEvent,
  type TransitionResult,
} from "./transitions.js";
export { maxRateDevices, rateUnits, type JobRate, type RateUnit } from "./rotation-pacing.js";
export type { RotationSchedule } from "./rotation-requests.js";
export {
  bulkJobJson,
  bulkJobs,
  defaultJobCap,
  jobCommands,
  maxJobCap,
  type BulkJob,
  type JobCommand,
  type BulkJobs,
  type DryRun,
  type JobFilter,
} from "./bulk-jobs.js";
