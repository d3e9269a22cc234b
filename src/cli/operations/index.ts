/**
 * Every operation a CLI command can run on an app, by name. Loaded only when a command runs one
 * (locally, or in the server that a command was forwarded to), never to parse options or print help.
 */
import { auditOperations } from "./audit.js";
import { bootstrapOperations } from "./bootstrap.js";
import { caOperations } from "./ca.js";
import { certOperations } from "./cert.js";
import { crlOperations } from "./crl.js";
import { deviceOperations } from "./device.js";
import { eventOperations } from "./events.js";
import { groupOperations } from "./group.js";
import { initOperations } from "./init.js";
import { jobOperations } from "./job.js";
import { kekOperations } from "./kek.js";
import { manufacturerOperations } from "./manufacturer.js";
import { policyOperations } from "./policy.js";
import { settingsOperations } from "./settings.js";
import { simulateOperations } from "./simulate.js";
import { tokenOperations } from "./token.js";

export const operations = {
  ...initOperations,
  ...caOperations,
  ...certOperations,
  ...crlOperations,
  ...deviceOperations,
  ...eventOperations,
  ...groupOperations,
  ...jobOperations,
  ...policyOperations,
  ...manufacturerOperations,
  ...bootstrapOperations,
  ...tokenOperations,
  ...settingsOperations,
  ...kekOperations,
  ...auditOperations,
  ...simulateOperations,
};

export type Operations = typeof operations;
export type OperationName = keyof Operations;
export type InputOf<N extends OperationName> = Parameters<Operations[N]["run"]>[1];
export type OutputOf<N extends OperationName> = Awaited<ReturnType<Operations[N]["run"]>>;

export function isOperationName(name: unknown): name is OperationName {
  return typeof name === "string" && Object.hasOwn(operations, name);
}

export type { OperationContext } from "./operation.js";
