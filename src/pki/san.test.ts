import { AsnConvert } from "@peculiar/asn1-schema";
import { GeneralName, GeneralNames, OtherName } from "@peculiar/asn1-x509";
import { describe, expect, test } from "vitest";
import { isKeyfleetError } from "../domain/index.js";
import { readOnly } from "./der-reader.js";
import { decodeGeneralNames, encodeGeneralNames, formatSan, type SanEntry } from "./san.js";

const hex = (b: Uint8Array | ArrayBuffer): string =>
  Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString("hex");

const sans: SanEntry[] = [
  { type: "dns", value: "device-1.example.com" },
  { type: "ip", value: "192.0.2.7" },
  { type: "ip", value: "2001:db8::7" },
  { type: "uri", value: "urn:keyfleet:device:dev-123" },
  { type: "email", value: "ops@example.com" },
  { type: "hardwareModuleName", hwType: "1.3.6.1.4.1.99999.1.2", hwSerialNum: "0102A0FF" },
];

/** The same names built with asn1-x509's schema (RFC 4108 HardwareModuleName written by hand: asn1-x509 has no class). */
function theirs(): Uint8Array {
  const hmn = Uint8Array.from(Buffer.from("3012060a2b06010401868d1f0102" + "04040102a0ff", "hex"));
  return new Uint8Array(
    AsnConvert.serialize(
      new GeneralNames([
        new GeneralName({ dNSName: "device-1.example.com" }),
        new GeneralName({ iPAddress: "192.0.2.7" }),
        new GeneralName({ iPAddress: "2001:db8::7" }),
        new GeneralName({ uniformResourceIdentifier: "urn:keyfleet:device:dev-123" }),
        new GeneralName({ rfc822Name: "ops@example.com" }),
        new GeneralName({ otherName: new OtherName({ typeId: "1.3.6.1.5.5.7.8.4", value: hmn.buffer }) }),
      ]),
    ),
  );
}

describe("GeneralNames", () => {
  test("encodes each form as asn1-x509 does", () => {
    expect(hex(encodeGeneralNames(sans))).toBe(hex(theirs()));
  });

  test("round-trips through decodeGeneralNames", () => {
    const encoded = encodeGeneralNames(sans);
    expect(decodeGeneralNames(readOnly(encoded, 0x30, "x"), "x")).toEqual(sans);
  });

  test("formats as openssl-like text", () => {
    expect(sans.map(formatSan)).toEqual([
      "DNS:device-1.example.com",
      "IP:192.0.2.7",
      "IP:2001:db8::7",
      "URI:urn:keyfleet:device:dev-123",
      "email:ops@example.com",
      "HardwareModuleName:1.3.6.1.4.1.99999.1.2:0102A0FF",
    ]);
  });

  test.each<SanEntry>([
    { type: "dns", value: "-bad.example.com" },
    { type: "dns", value: "*.example.com" },
    { type: "dns", value: "exa mple.com" },
    { type: "dns", value: "bücher.example" },
    { type: "dns", value: "" },
    { type: "ip", value: "300.1.1.1" },
    { type: "uri", value: "no-scheme" },
    { type: "uri", value: "http://exa mple" },
    { type: "email", value: "nobody" },
    { type: "hardwareModuleName", hwType: "not-an-oid", hwSerialNum: "01" },
    { type: "hardwareModuleName", hwType: "1.2.3", hwSerialNum: "0" },
  ])("refuses to encode %o (profile-violation)", (s) => {
    let error: unknown;
    try {
      encodeGeneralNames([s]);
    } catch (e) {
      error = e;
    }
    expect(isKeyfleetError(error, "profile-violation")).toBe(true);
  });

  test("refuses names Keyfleet does not issue and empty GeneralNames when decoding", () => {
    const dirName = new Uint8Array(
      AsnConvert.serialize(new GeneralNames([new GeneralName({ registeredID: "1.2.3.4" })])),
    );
    expect(() => decodeGeneralNames(readOnly(dirName, 0x30, "x"), "x")).toThrow(/registeredID/);
    const upn = new Uint8Array(
      AsnConvert.serialize(
        new GeneralNames([
          new GeneralName({
            otherName: new OtherName({
              typeId: "1.3.6.1.4.1.311.20.2.3",
              value: Uint8Array.of(0x0c, 1, 0x61).buffer,
            }),
          }),
        ]),
      ),
    );
    expect(() => decodeGeneralNames(readOnly(upn, 0x30, "x"), "x")).toThrow(
      /1\.3\.6\.1\.4\.1\.311\.20\.2\.3/,
    );
    let error: unknown;
    try {
      decodeGeneralNames(readOnly(Uint8Array.of(0x30, 0), 0x30, "x"), "x");
    } catch (e) {
      error = e;
    }
    expect(isKeyfleetError(error, "malformed-request")).toBe(true);
  });
});
