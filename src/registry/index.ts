/**
 * The device registry: devices and their hardware identities; with later issues, the lifecycle
 * state machine, groups and bulk operations.
 */
export {
  deviceIdPattern,
  deviceService,
  type Device,
  type DeviceRegistration,
  type DeviceService,
} from "./devices.js";
