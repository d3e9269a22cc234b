import { crlArtefactName } from "../../ca/index.js";
import { operation } from "./operation.js";

export const crlOperations = {
  /**
   * A full CRL and its delta of every CA still valid (or of one), each signed now with its next
   * CRL Number, published as the server publishes them: served, and written into the data directory.
   */
  "crl.publish": operation({
    run: async (app, input: { ca?: string | undefined }, context) =>
      (await app.crls.publishNow(context.actor, input.ca)).map((crl) => ({
        issuerId: crl.issuerId,
        kind: crl.kind,
        number: crl.number.toString(),
        entries: crl.entries,
        thisUpdate: crl.thisUpdate.toISOString(),
        nextUpdate: crl.nextUpdate.toISOString(),
        /** Its file's name, under the data directory (and under --out). */
        name: crlArtefactName(crl.issuerId, crl.kind),
        der: Buffer.from(crl.der).toString("base64"),
      })),
  }),
};
