import type { CaSummary } from "../../ca/index.js";
import { operation } from "./operation.js";

export function caJson(ca: CaSummary) {
  return { ...ca, notBefore: ca.notBefore.toISOString(), notAfter: ca.notAfter.toISOString() };
}
export type CaJson = ReturnType<typeof caJson>;

export const caOperations = {
  "ca.list": operation({
    run: async (app, _input: Record<string, never>) => (await app.authority.cas()).map(caJson),
  }),
  "ca.chain": operation({
    run: async (app, _input: Record<string, never>) => ({ pem: (await app.authority.chain()).pem }),
  }),
};
