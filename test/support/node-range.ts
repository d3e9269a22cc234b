/**
 * Whether a Node version satisfies a package's `engines.node` range, for the engines test. semver
 * is not one of our dependencies, so this is a small reading of node-semver's range grammar that
 * covers what package-lock.json holds: `||` unions, space-separated comparators (all must hold),
 * `>= > <= < =`, `^`, `~`, partial versions (`20`, `10.x`) and `*`. Anything else (hyphen ranges,
 * prerelease tags) throws rather than guess: extend this when a dependency brings one.
 */
type Version = readonly [number, number, number];
/** A comparator reduced to a half-open bound: version >= low, or version < high. */
type Bound = { readonly op: ">=" | "<"; readonly v: Version };

export function satisfies(version: string, range: string): boolean {
  const v = fullVersion(version);
  return range.split("||").some((set) => comparatorSet(set, range).every((b) => holds(v, b)));
}

function holds(v: Version, b: Bound): boolean {
  const c = compare(v, b.v);
  return b.op === ">=" ? c >= 0 : c < 0;
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

function comparatorSet(set: string, range: string): Bound[] {
  // node-semver allows space between an operator and its version (">= 10.x").
  const tokens = set
    .trim()
    .replace(/([<>=^~]+)\s+/g, "$1")
    .split(/\s+/)
    .filter(Boolean);
  if (tokens.length === 0) return []; // "" means any version
  return tokens.flatMap((t) => comparator(t, range));
}

function comparator(token: string, range: string): Bound[] {
  const m = /^(>=|<=|>|<|=|\^|~)?v?(\*|x|X|\d+)(?:\.(\*|x|X|\d+))?(?:\.(\*|x|X|\d+))?$/.exec(token);
  if (!m) throw new Error(`engines range ${JSON.stringify(range)}: cannot read ${JSON.stringify(token)}`);
  const op = m[1] ?? "=";
  const parts = [m[2], m[3], m[4]].map((p) => (p === undefined || /^[*xX]$/.test(p) ? undefined : Number(p)));
  const given = parts.findIndex((p) => p === undefined);
  const n = given === -1 ? 3 : given; // how many leading parts are numbers
  if (parts.slice(n).some((p) => p !== undefined)) {
    throw new Error(`engines range ${JSON.stringify(range)}: ${JSON.stringify(token)} is not a version`);
  }
  const low: Version = [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0];
  if (n === 0) return op === "<" || op === ">" ? [{ op: "<", v: [0, 0, 0] }] : []; // "<*" matches nothing
  // The first version above every version this partial names: 20 → 21.0.0, 1.2 → 1.3.0.
  const next = bump(low, n - 1);
  switch (op) {
    case ">=":
      return [{ op: ">=", v: low }];
    case ">":
      return [{ op: ">=", v: n === 3 ? bump(low, 2) : next }];
    case "<":
      return [{ op: "<", v: low }];
    case "<=":
      return [{ op: "<", v: n === 3 ? bump(low, 2) : next }];
    case "=":
      return [
        { op: ">=", v: low },
        { op: "<", v: next },
      ];
    case "~": // ~1.2.3 → <1.3.0; ~1 → <2.0.0
      return [
        { op: ">=", v: low },
        { op: "<", v: bump(low, Math.min(n - 1, 1)) },
      ];
    case "^": {
      // ^ allows changes that do not modify the left-most non-zero part given: ^1.2 → <2, ^0.2 → <0.3.
      const nonZero = low.findIndex((p, i) => i < n && p !== 0);
      return [
        { op: ">=", v: low },
        { op: "<", v: bump(low, nonZero === -1 ? n - 1 : nonZero) },
      ];
    }
    default:
      throw new Error(`engines range ${JSON.stringify(range)}: unknown operator in ${JSON.stringify(token)}`);
  }
}

/** Increments part `i` and zeroes the parts after it. */
function bump(v: Version, i: number): Version {
  return [i === 0 ? v[0] + 1 : v[0], i === 1 ? v[1] + 1 : i < 1 ? 0 : v[1], i === 2 ? v[2] + 1 : 0];
}

function fullVersion(text: string): Version {
  const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (!m) throw new Error(`not a release version: ${JSON.stringify(text)}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}
