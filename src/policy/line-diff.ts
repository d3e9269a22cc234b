/**
 * A line diff for `policy diff`: the longest common subsequence of the two texts' lines, printed
 * as a unified diff with three lines of context. Quadratic in the lines, which policy documents
 * bound (maxPolicyLines).
 */
export function unifiedDiff(a: string, b: string, labels: readonly [string, string]): string {
  const x = a.split("\n");
  const y = b.split("\n");
  const ops = edits(x, y);
  if (ops.every((o) => o.kind === " ")) return "";
  const out = [`--- ${labels[0]}`, `+++ ${labels[1]}`];
  const context = 3;
  let i = 0;
  while (i < ops.length) {
    if (ops[i]!.kind === " ") {
      i++;
      continue;
    }
    const start = Math.max(0, i - context);
    let end = i;
    // Extend the hunk while changes are within 2×context lines of each other.
    for (let j = i; j < ops.length; j++) {
      if (ops[j]!.kind !== " ") end = j;
      else if (j - end > 2 * context) break;
    }
    end = Math.min(ops.length - 1, end + context);
    const hunk = ops.slice(start, end + 1);
    const first = hunk[0]!;
    const aLines = hunk.filter((o) => o.kind !== "+").length;
    const bLines = hunk.filter((o) => o.kind !== "-").length;
    out.push(
      `@@ -${first.a + (aLines > 0 ? 1 : 0)},${aLines} +${first.b + (bLines > 0 ? 1 : 0)},${bLines} @@`,
    );
    for (const o of hunk) out.push(`${o.kind}${o.text}`);
    i = end + 1;
  }
  return out.join("\n") + "\n";
}

interface Edit {
  readonly kind: " " | "-" | "+";
  readonly text: string;
  /** Lines of a and b before this one. */
  readonly a: number;
  readonly b: number;
}

function edits(x: readonly string[], y: readonly string[]): Edit[] {
  const n = x.length;
  const m = y.length;
  // lcs[i][j]: the longest common subsequence of x[i..] and y[j..].
  const lcs = new Uint16Array((n + 1) * (m + 1));
  const at = (i: number, j: number) => i * (m + 1) + j;
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[at(i, j)] =
        x[i] === y[j] ? lcs[at(i + 1, j + 1)]! + 1 : Math.max(lcs[at(i + 1, j)]!, lcs[at(i, j + 1)]!);
    }
  }
  const out: Edit[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) out.push({ kind: " ", text: x[i++]!, a: i - 1, b: j++ });
    else if (i < n && (j === m || lcs[at(i + 1, j)]! >= lcs[at(i, j + 1)]!))
      out.push({ kind: "-", text: x[i++]!, a: i - 1, b: j });
    else out.push({ kind: "+", text: y[j++]!, a: i, b: j - 1 });
  }
  return out;
}
