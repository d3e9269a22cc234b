import { operation } from "./operation.js";

export const crlOperations = {
  /** A full CRL of every active CA (or of one), each signed now with its next CRL Number. */
  "crl.publish": operation({
    run: async (app, input: { ca?: string | undefined }) => {
      const ids =
        input.ca === undefined
          ? (await app.authority.cas()).filter((c) => c.state === "active").map((c) => c.id)
          : [input.ca];
      const crls = [];
      for (const id of ids) {
        const crl = await app.authority.produceCrl(id);
        crls.push({
          issuerId: crl.issuerId,
          number: crl.number.toString(),
          entries: crl.entries,
          thisUpdate: crl.thisUpdate.toISOString(),
          nextUpdate: crl.nextUpdate.toISOString(),
          der: Buffer.from(crl.der).toString("base64"),
        });
      }
      return crls;
    },
  }),
};
