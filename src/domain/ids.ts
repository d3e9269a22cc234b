/** Branded identifiers: a string that the type system will not confuse with another kind of id. */
declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

export type DeviceId = Brand<string, "DeviceId">;
export type IssuerId = Brand<string, "IssuerId">;
export type KeyId = Brand<string, "KeyId">;
/** A certificate serial number as lower-case hex without leading zero octets beyond DER's sign octet. */
export type CertificateSerial = Brand<string, "CertificateSerial">;

/** What a device id looks like (ids are UUIDs; the rule bounds what callers may send as one). */
export const deviceIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
