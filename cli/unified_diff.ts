/**
 * A unified diff in the layout of GNU `diff -u` (what `packer fmt -diff`
 * shells out to): three lines of context, hunks closer than seven lines
 * merged, and "\ No newline at end of file" after a last line without one.
 */

/** One line of the edit script: kept (" "), removed ("-") or added ("+"). */
type Edit = { op: " " | "-" | "+"; text: string; a: number; b: number };

const CONTEXT = 3;

/** The unified diff of `before` and `after` with the two file labels; "" when they are equal. */
export function unifiedDiff(
  before: string,
  after: string,
  oldLabel: string,
  newLabel: string,
): string {
  if (before === after) return "";
  const a = splitLines(before);
  const b = splitLines(after);
  const edits = diffLines(a, b);
  const out = [`--- ${oldLabel}\n`, `+++ ${newLabel}\n`];
  let i = 0;
  while (i < edits.length) {
    if (edits[i].op === " ") {
      i++;
      continue;
    }
    // A hunk runs from CONTEXT lines before this change to CONTEXT lines after
    // the last change that is no more than 2*CONTEXT unchanged lines away.
    const start = Math.max(0, i - CONTEXT);
    let end = i;
    let last = i;
    while (end < edits.length) {
      if (edits[end].op !== " ") last = end;
      else if (end - last > 2 * CONTEXT) break;
      end++;
    }
    const stop = Math.min(edits.length, last + CONTEXT + 1);
    const hunk = edits.slice(start, stop);
    out.push(hunkHeader(hunk));
    for (const e of hunk) {
      out.push(e.op + e.text);
      if (!e.text.endsWith("\n")) out.push("\n\\ No newline at end of file\n");
    }
    i = stop;
  }
  return out.join("");
}

function hunkHeader(hunk: Edit[]): string {
  const range = (side: "a" | "b", op: "-" | "+") => {
    const lines = hunk.filter((e) => e.op === " " || e.op === op);
    const count = lines.length;
    // An empty range names the line before it, as diff does.
    const first = count === 0 ? hunk[0][side] : lines[0][side] + 1;
    return count === 1 ? `${first}` : `${first},${count}`;
  };
  return `@@ -${range("a", "-")} +${range("b", "+")} @@\n`;
}

function splitLines(text: string): string[] {
  const lines = text.split(/(?<=\n)/);
  return lines[lines.length - 1] === "" ? lines.slice(0, -1) : lines;
}

/** A shortest edit script (Myers' algorithm), removals before additions in each change. */
function diffLines(a: string[], b: string[]): Edit[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const v = new Map<number, number>([[1, 0]]);
  const trace: Map<number, number>[] = [];
  outer: for (let d = 0; d <= max; d++) {
    trace.push(new Map(v));
    for (let k = -d; k <= d; k += 2) {
      const down = k === -d || (k !== d && v.get(k - 1)! < v.get(k + 1)!);
      let x = down ? v.get(k + 1)! : v.get(k - 1)! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v.set(k, x);
      if (x >= n && y >= m) break outer;
    }
  }
  // Walk the trace back from the end to recover the path.
  const edits: Edit[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d];
    const k = x - y;
    const down = k === -d || (k !== d && vd.get(k - 1)! < vd.get(k + 1)!);
    const prevK = down ? k + 1 : k - 1;
    const prevX = vd.get(prevK) ?? 0;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      edits.push({ op: " ", text: a[x], a: x, b: y });
    }
    if (d === 0) break;
    if (down) {
      y--;
      edits.push({ op: "+", text: b[y], a: x, b: y });
    } else {
      x--;
      edits.push({ op: "-", text: a[x], a: x, b: y });
    }
  }
  edits.reverse();
  const changedA = new Uint8Array(n + 2);
  const changedB = new Uint8Array(m + 2);
  for (const e of edits) {
    if (e.op === "-") changedA[e.a + 1] = 1;
    if (e.op === "+") changedB[e.b + 1] = 1;
  }
  shiftBoundaries(a, changedA, changedB);
  shiftBoundaries(b, changedB, changedA);
  return editsFrom(a, b, changedA, changedB);
}

/**
 * Slides each run of changed lines to where GNU diff puts it: merged with
 * neighbouring runs when equal lines allow, else as far down as possible,
 * unless that moves it away from a run of changes in the other file.
 * `changed` and `other` are indexed from 1, with a 0 sentinel at each end.
 */
function shiftBoundaries(lines: string[], changed: Uint8Array, other: Uint8Array): void {
  const end = lines.length;
  const at = (i: number) => changed[i + 1];
  const set = (i: number, v: number) => changed[i + 1] = v;
  const otherAt = (j: number) => other[j + 1];
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < end && !at(i)) {
      while (otherAt(j++));
      i++;
    }
    if (i === end) return;
    let start = i;
    while (at(++i));
    while (otherAt(j)) j++;
    let runLength: number;
    let corresponding: number;
    do {
      runLength = i - start;
      while (start > 0 && lines[start - 1] === lines[i - 1]) {
        set(--start, 1);
        set(--i, 0);
        while (at(start - 1)) start--;
        while (otherAt(--j));
      }
      corresponding = otherAt(j - 1) ? i : end;
      while (i !== end && lines[start] === lines[i]) {
        set(start++, 0);
        set(i++, 1);
        while (at(i)) i++;
        while (otherAt(++j)) corresponding = i;
      }
    } while (runLength !== i - start);
    while (corresponding < i) {
      set(--start, 1);
      set(--i, 0);
      while (otherAt(--j));
    }
  }
}

/** The edit script for the changed-line flags: each change lists its removals, then its additions. */
function editsFrom(a: string[], b: string[], changedA: Uint8Array, changedB: Uint8Array): Edit[] {
  const edits: Edit[] = [];
  let x = 0;
  let y = 0;
  while (x < a.length || y < b.length) {
    if (x < a.length && y < b.length && !changedA[x + 1] && !changedB[y + 1]) {
      edits.push({ op: " ", text: a[x], a: x++, b: y++ });
      continue;
    }
    const y0 = y;
    while (x < a.length && changedA[x + 1]) edits.push({ op: "-", text: a[x], a: x++, b: y0 });
    while (y < b.length && changedB[y + 1]) edits.push({ op: "+", text: b[y], a: x, b: y++ });
  }
  return edits;
}
