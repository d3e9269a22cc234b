/**
 * An OCSP relying party for tests, independent of our codec: requests built and responses parsed
 * with @peculiar/asn1-ocsp, the response signature checked with node:crypto against the responder
 * certificate the response carries (which must chain to the issuing CA and be an id-kp-OCSPSigning
 * certificate valid now, RFC 6960 §4.2.2.2) or, without one, against the issuing CA itself.
 */
import { createHash, verify, X509Certificate } from "node:crypto";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import { AlgorithmIdentifier, Certificate, CRLReasons } from "@peculiar/asn1-x509";
import {
  BasicOCSPResponse,
  CertID,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  Request,
  TBSRequest,
  id_pkix_ocsp_basic,
} from "@peculiar/asn1-ocsp";

const sha1 = "1.3.14.3.2.26";
const ocspSigning = "1.3.6.1.5.5.7.3.9";
const signatureHashes: Readonly<Record<string, string | null>> = {
  "1.2.840.10045.4.3.2": "sha256", // ecdsa-with-SHA256
  "1.2.840.10045.4.3.3": "sha384", // ecdsa-with-SHA384
  "1.2.840.113549.1.1.11": "sha256", // sha256WithRSAEncryption
  "1.2.840.113549.1.1.12": "sha384", // sha384WithRSAEncryption
  "1.3.101.112": null, // Ed25519: no separate hash
};

export type OcspVerdict =
  | { readonly kind: "good" }
  | { readonly kind: "revoked"; readonly reason: string | undefined }
  | { readonly kind: "unknown" };

export interface OcspClient {
  /** The DER OCSPRequest for one serial (hex) of the issuing CA: a SHA-1 CertID, no nonce. */
  request(serial: string): Uint8Array;
  /** The verdict of a DER OCSPResponse about `serial`, after checking its signature; throws if it does not verify. */
  read(response: Uint8Array, serial: string, now: Date): OcspVerdict;
}

const bytes = (b: ArrayBuffer | Uint8Array): Buffer =>
  b instanceof Uint8Array ? Buffer.from(b.buffer, b.byteOffset, b.byteLength) : Buffer.from(b);

/** The INTEGER contents of a positive serial given in hex (a leading zero octet when the high bit is set). */
function serialOctets(serial: string): Buffer {
  const magnitude = Buffer.from(serial.length % 2 === 0 ? serial : `0${serial}`, "hex");
  return magnitude[0]! & 0x80 ? Buffer.concat([Buffer.of(0), magnitude]) : magnitude;
}

const sameSerial = (a: ArrayBuffer, serial: string): boolean =>
  bytes(a)
    .toString("hex")
    .replace(/^(00)+/, "")
    .toUpperCase() === serial.toUpperCase().replace(/^(00)+/, "");

export function ocspClient(issuingDer: Uint8Array): OcspClient {
  const issuing = AsnConvert.parse(issuingDer, Certificate);
  const issuingX509 = new X509Certificate(bytes(issuingDer));
  const nameHash = createHash("sha1")
    .update(bytes(AsnConvert.serialize(issuing.tbsCertificate.subject)))
    .digest();
  const keyHash = createHash("sha1")
    .update(bytes(issuing.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey))
    .digest();
  const trusted = new Map<string, X509Certificate>(); // responder certificates already checked, by DER hex

  function responderKey(basic: BasicOCSPResponse, now: Date) {
    const carried = basic.certs?.[0];
    if (!carried) return issuingX509.publicKey; // the CA signs for itself
    const der = bytes(AsnConvert.serialize(carried));
    const known = trusted.get(der.toString("hex"));
    if (known && now >= new Date(known.validFrom) && now < new Date(known.validTo)) return known.publicKey;
    const responder = new X509Certificate(der);
    if (!responder.checkIssued(issuingX509) || !responder.verify(issuingX509.publicKey)) {
      throw new Error(
        `the OCSP responder certificate ${responder.serialNumber} is not issued by the issuing CA`,
      );
    }
    if (!(responder.keyUsage ?? []).includes(ocspSigning)) {
      throw new Error(`the OCSP responder certificate ${responder.serialNumber} lacks id-kp-OCSPSigning`);
    }
    if (now < new Date(responder.validFrom) || now >= new Date(responder.validTo)) {
      throw new Error(
        `the OCSP responder certificate ${responder.serialNumber} is not valid at ${now.toISOString()}`,
      );
    }
    trusted.set(der.toString("hex"), responder);
    return responder.publicKey;
  }

  return {
    request(serial) {
      const certId = new CertID({
        hashAlgorithm: new AlgorithmIdentifier({ algorithm: sha1, parameters: null }),
        issuerNameHash: new OctetString(nameHash),
        issuerKeyHash: new OctetString(keyHash),
        serialNumber: new Uint8Array(serialOctets(serial)).buffer,
      });
      const request = new OCSPRequest({
        tbsRequest: new TBSRequest({ requestList: [new Request({ reqCert: certId })] }),
      });
      return new Uint8Array(AsnConvert.serialize(request));
    },

    read(der, serial, now) {
      const response = AsnConvert.parse(bytes(der), OCSPResponse);
      if (response.responseStatus !== OCSPResponseStatus.successful) {
        throw new Error(`OCSP answered ${OCSPResponseStatus[response.responseStatus]} for ${serial}`);
      }
      if (response.responseBytes?.responseType !== id_pkix_ocsp_basic) {
        throw new Error(`OCSP answered no basic response for ${serial}`);
      }
      const basic = AsnConvert.parse(response.responseBytes.response.buffer, BasicOCSPResponse);
      const hash = signatureHashes[basic.signatureAlgorithm.algorithm];
      if (hash === undefined)
        throw new Error(`unexpected signature algorithm ${basic.signatureAlgorithm.algorithm}`);
      const signed = bytes(basic.tbsResponseDataRaw ?? AsnConvert.serialize(basic.tbsResponseData));
      if (!verify(hash, signed, responderKey(basic, now), bytes(basic.signature))) {
        throw new Error(`the OCSP response about ${serial} does not verify`);
      }
      const [single, ...more] = basic.tbsResponseData.responses;
      if (!single || more.length > 0) throw new Error(`expected one SingleResponse about ${serial}`);
      const id = single.certID;
      if (
        !sameSerial(id.serialNumber, serial) ||
        !bytes(id.issuerNameHash.buffer).equals(nameHash) ||
        !bytes(id.issuerKeyHash.buffer).equals(keyHash)
      ) {
        throw new Error(`the OCSP response is about another certificate than ${serial}`);
      }
      // RFC 5019 §4: a response is good for [thisUpdate, nextUpdate).
      if (now < single.thisUpdate || (single.nextUpdate !== undefined && now >= single.nextUpdate)) {
        throw new Error(`the OCSP response about ${serial} is not current at ${now.toISOString()}`);
      }
      const status = single.certStatus;
      if (status.good !== undefined) return { kind: "good" };
      if (status.revoked) {
        const code = status.revoked.revocationReason?.reason;
        return { kind: "revoked", reason: code === undefined ? undefined : CRLReasons[code] };
      }
      return { kind: "unknown" };
    },
  };
}
