/**
 * kiln's functions against Packer 1.6.6's answers for the same calls
 * (tests/fixtures/hcl/functions_packer.json, recorded by
 * record_functions_packer.ts). A value Packer printed must be the value kiln
 * returns; an error Packer raised must be a ValueError from kiln. Where kiln
 * follows current Packer instead of 1.6.6, DIFFERENCES says so and what
 * kiln does instead.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { Value } from "../../../template/hcl/value.ts";
import { ValueError } from "../../../template/hcl/value.ts";
import { call, context } from "./call.ts";

interface Case {
  expr: string;
  fn: string;
  args: Value[];
  packer_output?: string;
  packer_error?: string;
}

const CASES: Case[] = JSON.parse(
  Deno.readTextFileSync(new URL("../../fixtures/hcl/functions_packer.json", import.meta.url)),
);

/** Calls where kiln deliberately answers otherwise, and what it answers. */
const DIFFERENCES: Record<string, { value?: Value; error?: true; why: string }> = {
  'strrev("a\u0301b")': {
    value: "ba\u0301",
    why: 'HCL\'s parser normalizes string literals to NFC, so Packer reversed "áb" (U+00E1); ' +
      "the function itself sees the characters it is given",
  },
  'replace("hello world", "/w.*d/", "everybody")': {
    value: "hello everybody",
    why: "current Packer documents replace's /regex/ form (as Terraform); 1.6.6 replaced literally",
  },
  'replace("abc", "/(b)/", "[$1]")': {
    value: "a[b]c",
    why: "current Packer documents replace's /regex/ form (as Terraform); 1.6.6 replaced literally",
  },
  'index(["a", "b", "c"], "b")': {
    value: 1,
    why: "current Packer's index finds a value's position; 1.6.6 had cty's index(collection, key)",
  },
  "merge()": { value: {}, why: "current cty merges no maps into an empty object; 1.6.6 refused" },
};

function outcome(c: Case, baseDir: string): { value?: Value; error?: string } {
  try {
    return { value: call(c.fn, c.args, context(baseDir)) };
  } catch (e) {
    if (e instanceof ValueError) return { error: e.message };
    throw e;
  }
}

Deno.test("every recorded call answers as Packer 1.6.6 does", () => {
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(`${dir}/a.pkr.hcl`, "");
  Deno.writeTextFileSync(`${dir}/hello.txt`, "Hello World\n");
  const wrong: string[] = [];
  for (const c of CASES) {
    const got = outcome(c, dir);
    const known = DIFFERENCES[c.expr];
    const want = known
      ? known
      : c.packer_output !== undefined
      ? { value: JSON.parse(c.packer_output) as Value }
      : { error: true };
    const ok = want.error ? got.error !== undefined : got.error === undefined &&
      JSON.stringify(got.value) === JSON.stringify(want.value);
    if (!ok) {
      wrong.push(
        `${c.expr}: kiln ${JSON.stringify(got)}, want ${JSON.stringify(want)}${
          c.packer_error ? ` (${c.packer_error})` : ""
        }`,
      );
    }
  }
  assertEquals(wrong, []);
  assert(CASES.length > 200, "the recording holds the cases");
});
