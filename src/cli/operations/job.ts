import { operatorCaller } from "../../policy/index.js";
import type { DeviceState } from "../../domain/index.js";
import {
  bulkJobJson,
  deviceAttributeRules,
  deviceJson,
  type JobCommand,
  type JobFilter,
  type JobRate,
} from "../../registry/index.js";
import { operation } from "./operation.js";

export const jobOperations = {
  "job.start": operation({
    run: async (
      app,
      input: {
        command: JobCommand;
        /** As `device list` takes it: label as key=value. */
        filter: Omit<JobFilter, "label" | "state"> & {
          label?: string | undefined;
          state?: string | undefined;
        };
        dryRun?: boolean | undefined;
        cap?: number | undefined;
        reason?: string | undefined;
        rate?: JobRate | undefined;
      },
      context,
    ) => {
      const { label, state, ...rest } = input.filter;
      const filter: JobFilter = {
        ...rest,
        state: state as DeviceState | undefined,
        label: label === undefined ? undefined : deviceAttributeRules.parseLabel(label),
      };
      const made = await app.jobs.start(input.command, filter, operatorCaller(context.actor), input);
      return "dryRun" in made
        ? { dryRun: true as const, count: made.count, sample: made.sample.map(deviceJson) }
        : { dryRun: false as const, job: bulkJobJson(made) };
    },
  }),
  /** One step of a job (a page of devices): the CLI loops, drawing progress in between. */
  "job.step": operation({
    run: async (app, input: { id: string }) => bulkJobJson(await app.jobs.run(input.id, 1)),
  }),
  "job.show": operation({
    run: async (app, input: { id: string }, context) => {
      const job = await app.jobs.get(input.id, operatorCaller(context.actor));
      return { ...bulkJobJson(job), refusedItems: job.refusedItems };
    },
  }),
  "job.list": operation({
    run: async (app, input: { limit: number; after?: string | undefined }, context) => {
      const page = await app.jobs.list(input, operatorCaller(context.actor));
      return { items: page.items.map(bulkJobJson), next: page.next ?? null };
    },
  }),
};
