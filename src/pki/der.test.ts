import { AsnConvert } from "@peculiar/asn1-schema";
import { BasicConstraints, Time } from "@peculiar/asn1-x509";
import { describe, expect, test } from "vitest";
import {
  bitString,
  boolean,
  explicit,
  ia5String,
  implicit,
  integer,
  oid,
  printableString,
  sequence,
  set,
  smallInteger,
  time,
  tlv,
  utf8String,
} from "./der.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, "hex"));

describe("time", () => {
  test("writes 2049-12-31 as UTCTime and 2050-01-01 as GeneralizedTime (RFC 5280 §4.1.2.5)", () => {
    expect(Buffer.from(time(new Date("2049-12-31T23:59:59Z"))).toString("latin1")).toBe(
      "\x17\x0d491231235959Z",
    );
    expect(Buffer.from(time(new Date("2050-01-01T00:00:00Z"))).toString("latin1")).toBe(
      "\x18\x0f20500101000000Z",
    );
  });

  test("drops milliseconds", () => {
    expect(hex(time(new Date("2030-06-15T12:34:56.789Z")))).toBe(hex(time(new Date("2030-06-15T12:34:56Z"))));
    expect(Buffer.from(time(new Date("2030-06-15T12:34:56.999Z")).subarray(2)).toString()).toBe(
      "300615123456Z",
    );
  });

  test("uses GeneralizedTime before 1950, where UTCTime cannot go", () => {
    expect(time(new Date("1949-12-31T00:00:00Z"))[0]).toBe(0x18);
    expect(time(new Date("1950-01-01T00:00:00Z"))[0]).toBe(0x17);
  });

  test("equals asn1-x509's Time for the same instant", () => {
    for (const iso of [
      "2026-03-01T00:00:00Z",
      "2049-12-31T23:59:59Z",
      "2050-01-01T00:00:00Z",
      "2099-07-04T01:02:03Z",
    ]) {
      expect(hex(time(new Date(iso)))).toBe(
        hex(new Uint8Array(AsnConvert.serialize(new Time(new Date(iso))))),
      );
    }
  });

  test("refuses an invalid date", () => {
    expect(() => time(new Date(NaN))).toThrow(/invalid date/);
  });
});

describe("integer", () => {
  test("encodes unsigned magnitudes minimally and positive", () => {
    expect(hex(integer(bytes("00")))).toBe("020100");
    expect(hex(integer(bytes("7f")))).toBe("02017f");
    expect(hex(integer(bytes("80")))).toBe("02020080");
    expect(hex(integer(bytes("000080")))).toBe("02020080");
    expect(hex(integer(bytes("00000001")))).toBe("020101");
    expect(hex(integer(new Uint8Array(0)))).toBe("020100");
    expect(hex(smallInteger(0))).toBe("020100");
    expect(hex(smallInteger(2))).toBe("020102");
    expect(hex(smallInteger(255))).toBe("020200ff");
    expect(hex(smallInteger(256))).toBe("02020100");
  });

  test("equals asn1-schema's INTEGER encoding (through BasicConstraints pathLenConstraint)", () => {
    for (const n of [0, 1, 127, 128, 255, 256, 65535, 2 ** 31]) {
      const theirs = AsnConvert.serialize(new BasicConstraints({ cA: true, pathLenConstraint: n }));
      expect(hex(sequence(boolean(true), smallInteger(n)))).toBe(hex(new Uint8Array(theirs)));
    }
  });
});

describe("lengths", () => {
  test("uses short form below 128 and minimal long form above", () => {
    expect(hex(tlv(0x04, new Uint8Array(127))).slice(0, 4)).toBe("047f");
    expect(hex(tlv(0x04, new Uint8Array(128))).slice(0, 6)).toBe("048180");
    expect(hex(tlv(0x04, new Uint8Array(255))).slice(0, 6)).toBe("0481ff");
    expect(hex(tlv(0x04, new Uint8Array(256))).slice(0, 8)).toBe("04820100");
    expect(hex(tlv(0x04, new Uint8Array(70000))).slice(0, 10)).toBe("0483011170");
  });
});

describe("oid", () => {
  test("encodes arcs in base 128 (X.690 §8.19)", () => {
    expect(hex(oid("2.5.29.19"))).toBe("0603551d13");
    expect(hex(oid("1.2.840.10045.4.3.2"))).toBe("06082a8648ce3d040302");
    expect(hex(oid("1.3.6.1.5.5.7.8.4"))).toBe("06082b06010505070804");
    expect(hex(oid("2.999.3"))).toBe("0603883703");
    expect(hex(oid("2.25.329800735698586629295641978511506172918"))).toBe(
      "06146983f09da7ebcfdee0c7a1a7b2c0948cc8f9d776",
    );
  });

  test("refuses what is not an OID", () => {
    for (const bad of ["", "1", "3.1", "1.40", "1.2.03", "1..2", "a.b"]) expect(() => oid(bad)).toThrow();
  });
});

describe("strings, bit strings, tags", () => {
  test("writes each string type with its tag", () => {
    expect(hex(utf8String("é"))).toBe("0c02c3a9");
    expect(hex(printableString("DE"))).toBe("13024445");
    expect(hex(ia5String("a@b"))).toBe("1603614062");
    expect(() => printableString("a@b")).toThrow();
    expect(() => ia5String("é")).toThrow();
  });

  test("writes BOOLEAN as DER 0x00/0xFF and BIT STRING with its unused-bits octet", () => {
    expect(hex(boolean(true))).toBe("0101ff");
    expect(hex(boolean(false))).toBe("010100");
    expect(hex(bitString(bytes("86"), 1))).toBe("03020186");
  });

  test("sorts SET OF elements by encoding (X.690 §11.6) and retags implicitly", () => {
    expect(hex(set(bytes("0201ff"), bytes("020101")))).toBe("3106020101" + "0201ff");
    expect(hex(explicit(0, bytes("020102")))).toBe("a003020102");
    expect(hex(implicit(0, sequence(bytes("0500"))))).toBe("a0020500");
    expect(hex(implicit(2, bytes("1601" + "61")))).toBe("820161");
  });
});
