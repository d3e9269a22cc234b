/** The rules a device query must meet (lists and bulk jobs alike): a known state, a real time. */
import { KeyfleetError, deviceStates, isDeviceState } from "../domain/index.js";
import type { DeviceQuery } from "../store/index.js";

export function checkDeviceQuery(query: Omit<DeviceQuery, "scope">): void {
  if (query.state !== undefined && !isDeviceState(query.state)) {
    throw new KeyfleetError("malformed-request", `state is one of ${deviceStates.join(", ")}`);
  }
  if (query.certificateExpiringBefore && Number.isNaN(query.certificateExpiringBefore.getTime())) {
    throw new KeyfleetError("malformed-request", "certificate expiring before: an ISO 8601 time");
  }
}
