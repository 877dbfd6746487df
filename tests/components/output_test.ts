import assert from "node:assert/strict";
import { LineSplitter, OutputSummary } from "../../provisioners/shared/output.ts";

Deno.test("LineSplitter: lines split anywhere, even inside UTF-8, CRLF trimmed, last line flushed", () => {
  const lines: string[] = [];
  const split = new LineSplitter((l) => lines.push(l));
  const bytes = new TextEncoder().encode("héllo\r\nwörld\npartial");
  for (let i = 0; i < bytes.length; i++) split.push(bytes.subarray(i, i + 1));
  assert.deepEqual(lines, ["héllo", "wörld"]);
  split.flush();
  assert.deepEqual(lines, ["héllo", "wörld", "partial"]);
});

Deno.test("LineSplitter: output without newlines is passed on in bounded pieces", () => {
  const lines: string[] = [];
  const split = new LineSplitter((l) => lines.push(l));
  split.push(new TextEncoder().encode("x".repeat(200 * 1024)));
  split.flush();
  assert.equal(lines.join(""), "x".repeat(200 * 1024));
  assert.ok(lines.every((l) => l.length <= 64 * 1024));
});

Deno.test("OutputSummary keeps counts and a bounded tail", () => {
  const summary = new OutputSummary(3, 5);
  for (const line of ["a", "b", "c", "d", "0123456789"]) {
    summary.addBytes(line.length + 1);
    summary.addLine(line);
  }
  assert.deepEqual(summary.summary(), { bytes: 19, lines: 5, tail: ["c", "d", "01234…"] });
});
