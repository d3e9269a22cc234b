import "reflect-metadata";
import { Name } from "@peculiar/x509";
import { describe, expect, test } from "vitest";
import { isKeyfleetError } from "../domain/index.js";
import { readOnly } from "./der-reader.js";
import { decodeName, encodeName, formatName, type DistinguishedName } from "./name.js";

const hex = (b: Uint8Array | ArrayBuffer): string =>
  Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString("hex");

const dn: DistinguishedName = [
  { type: "C", value: "DE" },
  { type: "ST", value: "Bayern" },
  { type: "L", value: "München" },
  { type: "O", value: "Acme, Inc." },
  { type: "OU", value: "Sensors" },
  { type: "DC", value: "example" },
  { type: "CN", value: "device-001" },
  { type: "serialNumber", value: "SN-0001" },
  { type: "emailAddress", value: "ops@example.com" },
];

describe("encodeName", () => {
  test("equals @peculiar/x509's Name with the RFC 5280 string types", () => {
    const kind = (t: string) =>
      t === "C" || t === "serialNumber"
        ? "printableString"
        : t === "DC" || t === "emailAddress"
          ? "ia5String"
          : "utf8String";
    const oids: Record<string, string> = {
      C: "2.5.4.6",
      ST: "2.5.4.8",
      L: "2.5.4.7",
      O: "2.5.4.10",
      OU: "2.5.4.11",
      DC: "0.9.2342.19200300.100.1.25",
      CN: "2.5.4.3",
      serialNumber: "2.5.4.5",
      emailAddress: "1.2.840.113549.1.9.1",
    };
    const theirs = new Name(dn.map((a) => ({ [oids[a.type]!]: [{ [kind(a.type)]: a.value }] })) as never);
    expect(hex(encodeName(dn))).toBe(hex(theirs.toArrayBuffer()));
  });

  test("encodes the empty name as an empty SEQUENCE", () => {
    expect(hex(encodeName([]))).toBe("3000");
  });

  test("round-trips through decodeName", () => {
    const encoded = encodeName(dn);
    expect(decodeName(readOnly(encoded, 0x30, "x"), "x")).toEqual(dn);
  });

  test.each([
    [{ type: "C", value: "DEU" }],
    [{ type: "C", value: "de" }],
    [{ type: "serialNumber", value: "SN_1" }],
    [{ type: "emailAddress", value: "é@example.com" }],
    [{ type: "CN", value: "" }],
    [{ type: "CN", value: "x".repeat(65) }],
    [{ type: "CN", value: "a\u0000b" }],
    [{ type: "CN", value: "\ud800" }],
  ] as const)("refuses %o with profile-violation", (attribute) => {
    let error: unknown;
    try {
      encodeName([attribute]);
    } catch (e) {
      error = e;
    }
    expect(isKeyfleetError(error, "profile-violation")).toBe(true);
  });

  test("counts characters, not UTF-16 units, against the upper bound", () => {
    expect(() => encodeName([{ type: "CN", value: "😀".repeat(64) }])).not.toThrow();
  });
});

describe("formatName", () => {
  test("joins in encoding order with RFC 4514 escaping", () => {
    expect(
      formatName([
        { type: "CN", value: "x" },
        { type: "O", value: "y" },
      ]),
    ).toBe("CN=x, O=y");
    expect(
      formatName([
        { type: "O", value: "Acme, Inc." },
        { type: "CN", value: " #1+2 " },
      ]),
    ).toBe("O=Acme\\, Inc., CN=\\ #1\\+2\\ ");
  });
});

describe("decodeName", () => {
  test("refuses multi-valued RDNs and unknown attribute types, naming the OID", () => {
    const multi = new Name("CN=a+O=b").toArrayBuffer();
    expect(() => decodeName(readOnly(new Uint8Array(multi), 0x30, "x"), "x")).toThrow(/multi-valued/);
    const street = new Name("2.5.4.9=Main Street 1").toArrayBuffer();
    let error: unknown;
    try {
      decodeName(readOnly(new Uint8Array(street), 0x30, "x"), "x");
    } catch (e) {
      error = e;
    }
    expect(isKeyfleetError(error, "profile-violation")).toBe(true);
    expect(String(error)).toMatch(/2\.5\.4\.9/);
  });
});
