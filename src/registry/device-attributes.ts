/**
 * The rules for what a registration says of a device: text fields, groups and labels. One home
 * for each, used by single and batch registration alike (the API schemas state the same limits).
 */
import { KeyfleetError } from "../domain/index.js";

// Printable ASCII, not starting or ending with a space: " X" and "X" must not be two devices.
export const printableText = /^(?! )[\x20-\x7e]{1,128}(?<! )$/;
export const groupPattern = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
export const labelKeyPattern = /^[a-z0-9][a-z0-9._/-]{0,62}$/;
export const maxGroups = 32;
export const maxLabels = 32;

export interface DeviceAttributes {
  readonly serialNumber: string;
  readonly model?: string | undefined;
  readonly manufacturer?: string | undefined;
  readonly tenant?: string | undefined;
  readonly region?: string | undefined;
  readonly firmwareVersion?: string | undefined;
  readonly groups?: readonly string[] | undefined;
  readonly labels?: Readonly<Record<string, string>> | undefined;
}

export function checkAttributes(input: DeviceAttributes): void {
  for (const [field, value] of Object.entries({
    serial: input.serialNumber,
    model: input.model,
    manufacturer: input.manufacturer,
    tenant: input.tenant,
    region: input.region,
    "firmware version": input.firmwareVersion,
  })) {
    if (value !== undefined && (typeof value !== "string" || !printableText.test(value))) {
      throw new KeyfleetError(
        "malformed-request",
        `device ${field} must be 1–128 printable ASCII characters, without leading or trailing spaces`,
      );
    }
  }
  const groups = input.groups ?? [];
  if (!Array.isArray(groups) || groups.length > maxGroups || groups.some((g) => !groupPattern.test(g))) {
    throw new KeyfleetError(
      "malformed-request",
      `a device is in at most ${maxGroups} groups, each 1–64 characters of letters, digits and . _ : / - (starting with a letter or digit)`,
    );
  }
  if (new Set(groups).size !== groups.length) {
    throw new KeyfleetError("malformed-request", "a device's groups are listed once each");
  }
  const labels = Object.entries(input.labels ?? {});
  if (
    labels.length > maxLabels ||
    labels.some(([k, v]) => !labelKeyPattern.test(k) || typeof v !== "string" || !printableText.test(v))
  ) {
    throw new KeyfleetError(
      "malformed-request",
      `a device has at most ${maxLabels} labels: keys of 1–63 lower-case letters, digits and . _ / -, values of 1–128 printable ASCII characters`,
    );
  }
}

/** `key=value`, as a label filter or a label on the CLI. */
export function parseLabel(text: string): { key: string; value: string } {
  const at = text.indexOf("=");
  const label = { key: text.slice(0, at), value: text.slice(at + 1) };
  if (at < 1 || !labelKeyPattern.test(label.key) || !printableText.test(label.value)) {
    throw new KeyfleetError(
      "malformed-request",
      "a label is key=value: a key of 1–63 lower-case letters, digits and . _ / -, a value of 1–128 printable ASCII characters",
    );
  }
  return label;
}
