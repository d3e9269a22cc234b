/** The device filters `device list` and `job start` take, stated once. */
import type { Command } from "commander";

export interface DeviceFilterFlags {
  state?: string;
  tenant?: string;
  region?: string;
  model?: string;
  firmware?: string;
  group?: string;
  label?: string;
}

export function withDeviceFilters(command: Command): Command {
  return command
    .option("--state <state>", "in this lifecycle state")
    .option("--tenant <tenant>")
    .option("--region <region>")
    .option("--model <model>")
    .option("--firmware <version>", "running this firmware version")
    .option("--group <name>", "in this group")
    .option("--label <key=value>", "with this label");
}

/** The filter as the operations take it (the label still as key=value: the registry reads it). */
export function deviceFilterOf(flags: DeviceFilterFlags) {
  return {
    state: flags.state,
    tenant: flags.tenant,
    region: flags.region,
    model: flags.model,
    firmwareVersion: flags.firmware,
    group: flags.group,
    label: flags.label,
  };
}
