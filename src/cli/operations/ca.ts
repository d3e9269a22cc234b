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
  /**
   * Spreads an issuing CA's certificates over more CRLs: records the count, publishes every shard's
   * CRLs, then issues with the new distribution points (never one naming an unpublished CRL).
   */
  "ca.crl-shards": operation({
    run: async (app, input: { ca: string; shards: number }, context) => {
      const changed = await app.authority.setCrlShards(input.ca, input.shards, context.actor);
      if (changed.old === changed.shards) return { ...changed, published: [] };
      const published = await app.crls.publishNow(context.actor, input.ca);
      app.authority.reloadIssuer();
      return {
        ...changed,
        published: published.map((crl) => ({
          shard: crl.shard,
          kind: crl.kind,
          number: crl.number.toString(),
        })),
      };
    },
  }),
  "ca.chain": operation({
    run: async (app, _input: Record<string, never>) => ({ pem: (await app.authority.chain()).pem }),
  }),
};
