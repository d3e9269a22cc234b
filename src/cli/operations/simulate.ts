/**
 * The server's side of `keyfleet simulate`: a fleet of new devices, registered as one batch per
 * 10,000 (labelled `simulation=<run>`, so they are easy to find and retire afterwards), each with a
 * one-time bootstrap token; and where their agents reach the server and which chain they trust.
 */
import { randomBytes } from "node:crypto";
import { KeyfleetError } from "../../domain/index.js";
import { maxBootstrapTtlSeconds } from "../../enrollment/index.js";
import { operatorCaller } from "../../policy/index.js";
import { maxRegistrationBatch } from "../../registry/index.js";
import { operation } from "./operation.js";

export const maxSimulatedDevices = 100_000;

export interface SimulationTarget {
  /** The HTTPS listener the agents enroll at. */
  readonly server: string;
  readonly chainPem: string;
}

export interface SimulatedFleet {
  readonly run: string;
  readonly devices: readonly { readonly deviceId: string; readonly token: string }[];
}

export const simulateOperations = {
  /** Where the fleet goes, asked first (nothing written), so the command can reach it before it registers anything. */
  "simulate.target": operation({
    run: async (app, input: { server?: string | undefined }, context): Promise<SimulationTarget> => {
      const server = input.server ?? context.server?.adminUrl;
      if (server === undefined) {
        throw new KeyfleetError(
          "invalid-configuration",
          "keyfleet simulate drives a running server: start `keyfleet serve`, or name one with --server URL",
        );
      }
      return { server, chainPem: (await app.authority.chain()).pem };
    },
  }),
  "simulate.prepare": operation({
    run: async (app, input: { count: number }, context): Promise<SimulatedFleet> => {
      const caller = operatorCaller(context.actor);
      const run = randomBytes(4).toString("hex");
      // Long enough for the slowest fleet to reach its last device (10 per second), a week at most.
      const ttlSeconds = Math.min(maxBootstrapTtlSeconds, 3600 + Math.ceil(input.count / 10));
      const devices: { deviceId: string; token: string }[] = [];
      for (let from = 0; from < input.count; from += maxRegistrationBatch) {
        const batch = Array.from({ length: Math.min(maxRegistrationBatch, input.count - from) }, (_, i) => ({
          serialNumber: `sim-${run}-${String(from + i + 1).padStart(6, "0")}`,
          model: "keyfleet-simulated",
          labels: { simulation: run },
        }));
        for (const device of await app.devices.registerMany(batch, caller)) {
          const t = await app.bootstrapTokens.create(caller, { deviceId: device.id, ttlSeconds });
          devices.push({ deviceId: device.id, token: t.token });
        }
      }
      return { run, devices };
    },
  }),
};
