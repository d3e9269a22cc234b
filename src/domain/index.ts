/**
 * Pure types and rules shared by every module: errors, identifiers (and, with the registry, the
 * device lifecycle). No I/O: this module runs unchanged in a browser or on a device.
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
export { checkPublicUrl } from "./public-url.js";
