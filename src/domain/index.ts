/**
 * Pure types and rules shared by every module: errors, identifiers and the device lifecycle. No
 * I/O: this module runs unchanged in a browser or on a device.
 */
export { KeyfleetError, isKeyfleetError, quoted, type ErrorCode } from "./errors.js";
export {
  deviceIdPattern,
  type Brand,
  type DeviceId,
  type IssuerId,
  type KeyId,
  type CertificateSerial,
} from "./ids.js";
export { systemClock, fixedClock, type Clock } from "./clock.js";
export { uuidV7 } from "./uuid-v7.js";
export { checkPublicUrl } from "./public-url.js";
export { issuanceCommandFor, transition } from "./lifecycle.js";
export {
  commandKinds,
  defaultLifecycleRules,
  deviceStates,
  isDeviceState,
  type Command,
  type CommandKind,
  type DeviceLifecycle,
  type DeviceState,
  type Effect,
  type EvidenceRef,
  type LifecycleRevocationReason,
  type LifecycleRules,
  type Outcome,
  type RefusalReason,
  type TransitionContext,
  type TransitionRecord,
} from "./device-state.js";
export { percentile } from "./percentile.js";
export { operatorReasons, parseReason, type OperatorReason } from "./revocation-reason.js";
export {
  checkRenewalFraction,
  defaultRenewalFraction,
  renewalTime,
  rotationDueAt,
  type Validity,
} from "./renewal-time.js";
