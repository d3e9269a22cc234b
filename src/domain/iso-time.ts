/**
 * A time as an operator or a client writes one: ISO 8601 with its zone (`2026-11-30T08:00:00Z`,
 * `…+01:00`, fractions to milliseconds) or a date alone (UTC midnight). One pattern for the CLI's
 * options and the API's request schemas.
 */
export const isoTimePattern =
  "^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,3})?)?(Z|[+-]\\d{2}:\\d{2}))?$";
