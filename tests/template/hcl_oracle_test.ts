/** The Packer 1.6.6 HCL2 oracle corpus: its shape, and the recorder's normalisation. */
import assert from "node:assert/strict";
import {
  canonicalOrder,
  normalise,
  type OracleCase,
  type OracleResult,
  resultLines,
} from "../fixtures/hcl/oracle/record.ts";

const root = new URL("../fixtures/hcl/oracle/", import.meta.url).pathname;

async function cases(): Promise<{ name: string; spec: OracleCase; result: OracleResult }[]> {
  const out = [];
  for await (const entry of Deno.readDir(root)) {
    if (!entry.isDirectory) continue;
    const dir = `${root}${entry.name}`;
    const spec = JSON.parse(await Deno.readTextFile(`${dir}/case.json`)) as OracleCase;
    const result = JSON.parse(await Deno.readTextFile(`${dir}/packer.json`)) as OracleResult;
    out.push({ name: entry.name, spec, result });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

Deno.test("every oracle case has a well-formed case.json and a recorded packer.json", async () => {
  const all = await cases();
  assert.ok(all.length >= 60, `only ${all.length} cases`);
  for (const { name, spec, result } of all) {
    assert.ok(["build", "validate", "inspect"].includes(spec.command), name);
    assert.ok(spec.description.length > 0, name);
    assert.ok(Number.isInteger(result.exit), name);
    assert.equal(typeof result.stdout, "string", name);
    assert.deepEqual(result.lines, resultLines(result.stdout), name);
  }
});

Deno.test("recorded output holds no run-dependent text the normalisation should have replaced", async () => {
  for (const { name, result } of await cases()) {
    const text = result.stdout + result.stderr;
    // deno-lint-ignore no-control-regex -- colour sequences begin with ESC
    assert.doesNotMatch(text, /kiln-oracle-|\/tmp\/packer-shell\d|\x1b\[/, name);
    assert.doesNotMatch(text, /\d+ (milli|micro)seconds/, name);
    assert.doesNotMatch(text, /0xc[0-9a-f]{6,}/, name);
  }
});

Deno.test("a successful build case records its RESULT lines", async () => {
  const byName = new Map((await cases()).map((c) => [c.name, c.result]));
  assert.deepEqual(byName.get("prec_all")?.lines.slice(0, 3), [
    "null.a: RESULT d=from-default",
    "null.a: RESULT ed=from-env",
    "null.a: RESULT a=from-a.auto",
  ]);
});

Deno.test("normalise replaces the case directory, script paths, durations, UUIDs and timestamps", () => {
  const raw = "\x1b[1;32m==> null.a: Running local shell script: /tmp/packer-shell123456\x1b[0m\n" +
    "cwd=/tmp/kiln-oracle-abc id=0b6a2cbe-52d1-4b7e-9d3c-3a6c2b1d9e0f at 2026-12-07T06:29:01Z\n" +
    "Build 'null.a' finished after 43 milliseconds 529 microseconds.\n";
  assert.equal(
    normalise(raw, "/tmp/kiln-oracle-abc", "/tmp/kiln-oracle-abc"),
    "==> null.a: Running local shell script: <SCRIPT>\n" +
      "cwd=<CASE_DIR> id=<UUID> at <TIMESTAMP>\n" +
      "Build 'null.a' finished after <DURATION>.\n",
  );
});

Deno.test("canonicalOrder sorts artifact summaries and known-type lists, leaving other lines alone", () => {
  const raw = "==> b\n==> a\n--> null.b: x\n--> null.a: y\nknown builders: [qemu file\nnull]\n";
  assert.equal(
    canonicalOrder(raw),
    "==> b\n==> a\n--> null.a: y\n--> null.b: x\nknown builders: [file null qemu]\n",
  );
});

Deno.test("resultLines keeps the build prefix of provisioner and post-processor lines", () => {
  const stdout = "    null.a: RESULT x=1\n==> null.a: RESULT not ui\n" +
    "    null.a (shell-local): RESULT pp\n    web.null.b: other\n";
  assert.deepEqual(resultLines(stdout), ["null.a: RESULT x=1", "null.a (shell-local): RESULT pp"]);
});
