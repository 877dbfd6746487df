import assert from "node:assert/strict";
import { Renderer } from "../../runtime/render.ts";
import type { EventRecord } from "../../runtime/events.ts";

const ui = (level: string, message: string): EventRecord => ({
  seq: 1,
  ts: "2026-11-22T00:00:00.000Z",
  run: "r",
  build: "null",
  step: null,
  type: "Ui",
  data: { level, message, prefix: "null" },
  prev: "",
  hash: "",
});

Deno.test("an empty output line prints as Packer prints it, without a trailing space", () => {
  const r = new Renderer({ color: false, machineReadable: false, timestamp: false });
  assert.deepEqual(r.render(ui("message", "")), ["    null:"]);
  assert.deepEqual(r.render(ui("message", "a  ")), ["    null: a"]);
  assert.deepEqual(r.render(ui("say", "one\n\ntwo")), [
    "==> null: one",
    "==> null: ",
    "==> null: two",
  ]);
});
