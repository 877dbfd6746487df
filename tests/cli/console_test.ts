/**
 * `kiln console`: against Packer 1.6.6's recorded answers
 * (tests/fixtures/console/packer-1.6.6.json, made by record.ts there), and
 * the behaviour around it: the terminal session, errors that do not end the
 * session, sensitive values, bad configurations.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { run } from "../../cli/console.ts";
import { formatResult, goQuote } from "../../template/hcl/print.ts";

const FIXTURES = fromFileUrl(new URL("../fixtures/console/", import.meta.url));

interface Recorded {
  args: string[];
  stdin: string;
  stdout: string;
  exitCode: number;
}

const RECORDED: Recorded[] = JSON.parse(
  Deno.readTextFileSync(join(FIXTURES, "packer-1.6.6.json")),
);

/** Where kiln deliberately differs from 1.6.6 (besides errors going to stderr). */
const DIFFERENCES: Record<string, { summary?: string; why: string }> = {};

async function* linesOf(text: string): AsyncIterable<string> {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  for (const l of lines) yield await Promise.resolve(l);
}

async function kiln(
  args: string[],
  stdin: string,
  interactive = false,
): Promise<{ stdout: string; stderr: string; code: number }> {
  let stdout = "";
  let stderr = "";
  const code = await run(args, {
    lines: linesOf(stdin),
    interactive,
    write: (text, stream) => {
      if (stream === "stdout") stdout += text;
      else stderr += text;
    },
  });
  return { stdout, stderr, code };
}

/** Recorded arguments name files relative to the fixtures directory. */
function absolute(args: string[]): string[] {
  return args.map((a) => {
    const m = /^(-var-file=)?(hcl|template\.json|vars\.json)$/.exec(a);
    return m ? `${m[1] ?? ""}${join(FIXTURES, m[2])}` : a;
  });
}

const PACKER_ERROR =
  /Error: ([^\n]*)\n\n {2}on <console-input> line 1:\n {2}\(source code not available\)\n\n[^\n]*\n\n\n/g;

Deno.test("piped lines answer as packer console 1.6.6 does", async () => {
  const wrong: string[] = [];
  for (const c of RECORDED) {
    const got = await kiln(absolute(c.args), c.stdin + "\n");
    const known = DIFFERENCES[c.stdin];
    const summaries = [...c.stdout.matchAll(PACKER_ERROR)].map((m) => known?.summary ?? m[1]);
    const want = {
      stdout: c.stdout.replace(PACKER_ERROR, ""),
      errors: summaries,
      code: c.exitCode,
    };
    const have = {
      stdout: got.stdout,
      errors: [...got.stderr.matchAll(/^Error: (.*)$/gm)].map((m) => m[1]),
      code: got.code,
    };
    if (JSON.stringify(have) !== JSON.stringify(want)) {
      wrong.push(
        `${c.args.join(" ")} <<< ${JSON.stringify(c.stdin)}:\n  kiln ${
          JSON.stringify(have)
        }\n  want ${JSON.stringify(want)}`,
      );
    }
  }
  assertEquals(wrong, []);
  assert(RECORDED.length > 40, "the recording holds the cases");
});

Deno.test("an error line shows a diagnostic on <console-input>, the next line still runs", async () => {
  const got = await kiln([join(FIXTURES, "hcl")], "var.fo\nupper(var.foo)\n");
  assertEquals(got.stdout, "HELLO\n");
  assertEquals(got.code, 1);
  assert(got.stderr.includes("Error: Unsupported attribute"), got.stderr);
  assert(got.stderr.includes("on <console-input> line 1:"), got.stderr);
  // The snippet shows the line as typed (not the attribute it is parsed as), the span marked.
  assert(got.stderr.includes("  1: var.fo\n        ^^^\n"), got.stderr);
  assert(!/\bat .*\.ts:\d+/.test(got.stderr), "no stack trace");
});

Deno.test("a syntax error speaks of the expression, not of the attribute it is parsed as", async () => {
  const got = await kiln(["-config-type=hcl2"], "[1,\n");
  assertEquals(got.code, 1);
  // Packer 1.6.6 says the same summary; kiln also names what it found.
  assert(got.stderr.includes("Error: Invalid expression"), got.stderr);
  assert(got.stderr.includes("Expected the start of an expression"), got.stderr);
  assert(!got.stderr.includes("v ="), got.stderr);
});

Deno.test("sensitive() values and sensitive variables are masked wherever they appear", async () => {
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(
    join(dir, "a.pkr.hcl"),
    `variable "pw" {
  default   = "hunter2"
  sensitive = true
}
locals {
  token = sensitive("tok-123")
  plain = "abc"
}
`,
  );
  const lines = [
    "local.token",
    '"${var.pw}/${local.plain}"',
    'sensitive("fresh")',
    'join(",", [local.token, "x"])',
    "variables",
  ];
  const outputs: string[] = [];
  for (const line of lines) outputs.push((await kiln([dir], line + "\n")).stdout);
  assertEquals(outputs.slice(0, 4), [
    "<sensitive>\n",
    "<sensitive>/abc\n",
    "<sensitive>\n",
    "<sensitive>,x\n",
  ]);
  assert(outputs[4].includes('var.pw: "<sensitive>"'), outputs[4]);
  assert(outputs[4].includes('local.token: "<sensitive>"'), outputs[4]);
  assert(!outputs.join("").includes("hunter2") && !outputs.join("").includes("tok-123"));
  // An error quoting the value must not leak it either.
  const err = await kiln([dir], "tonumber(var.pw)\n");
  assertEquals(err.code, 1);
  assert(!err.stderr.includes("hunter2"), err.stderr);
});

Deno.test("a terminal session prompts, prints every result, survives errors, stops at exit", async () => {
  const got = await kiln(
    [join(FIXTURES, "hcl")],
    "var.foo\nnope\nvar.nums[0] + 1\nexit\nvar.m\n",
    true,
  );
  assertEquals(got.stdout, "> hello\n> > 2\n> ");
  assert(got.stderr.includes('There is no variable named "nope".'), got.stderr);
  assertEquals(got.code, 0);
  // End of input (Control-D) ends the session too, on a fresh line.
  const eof = await kiln(["-config-type=hcl2"], "1 + 1\n", true);
  assertEquals(eof.stdout, "> 2\n> \n");
  assertEquals(eof.code, 0);
});

Deno.test("help describes the mode; variables from -var-file in HCL form too", async () => {
  const help = await kiln([join(FIXTURES, "hcl")], "help\n");
  assert(help.stdout.includes("HCL2 mode"), help.stdout);
  const json = await kiln([join(FIXTURES, "template.json")], "help\n");
  assert(json.stdout.includes("JSON mode"), json.stdout);
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(join(dir, "x.pkrvars.hcl"), 'foo = "from hcl"\nnums = [4]\n');
  const got = await kiln(
    [`-var-file=${join(dir, "x.pkrvars.hcl")}`, join(FIXTURES, "hcl")],
    'format("%s %d", var.foo, var.nums[0])\n',
  );
  assertEquals(got, { stdout: "from hcl 4\n", stderr: "", code: 0 });
});

Deno.test("a JSON template's interpolation error fails the run (Packer 1.6.6 exits 0)", async () => {
  const got = await kiln([join(FIXTURES, "template.json")], "{{ nope }}\n{{user `myvar`}}\n");
  assertEquals(got.stdout, "asdf\n");
  assert(got.stderr.includes('function "nope" not defined'), got.stderr);
  assertEquals(got.code, 1);
});

Deno.test("a configuration that does not load is reported and no console starts", async () => {
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(join(dir, "a.pkr.hcl"), 'variable "x" {\n  type = string\n}\n');
  const unset = await kiln([dir], "var.x\n");
  assertEquals(unset.code, 1);
  assertEquals(unset.stdout, "");
  assert(unset.stderr.includes("Failed to load the configuration"), unset.stderr);
  assert(unset.stderr.includes('"x"'), unset.stderr);
  const missing = await kiln([join(dir, "nothing-here")], "1\n");
  assertEquals(missing.code, 1);
  const usage = await kiln(["-config-type=yaml"], "1\n");
  assertEquals(usage.code, 1);
  assert(usage.stderr.includes("-config-type"), usage.stderr);
});

Deno.test("values print as Packer's console prints them", () => {
  assertEquals(
    formatResult({ b: [1.5, "x\ty"], a: { z: null, y: true } }),
    [
      "{",
      '  "a" = {',
      '    "y" = true',
      "  }",
      '  "b" = [',
      "    1.5,",
      '    "x\\ty",',
      "  ]",
      "}",
    ].join("\n"),
  );
  assertEquals(formatResult(-0), "0");
  assertEquals(formatResult(2 ** 63), "9.223372036854776e+18");
  assertEquals(formatResult(-(2 ** 63)), "-9223372036854775808");
  assertEquals(formatResult(123456.5), "123456.5");
  assertEquals(formatResult(1 / 0), "+Inf");
  assertEquals(
    goQuote("\x00\x7f\u0085\u00e9\u2028 \u{1F600}\u{E0001}"),
    '"\\x00\\x7f\\u0085é\\u2028 😀\\U000e0001"',
  );
});

Deno.test("kiln console reads standard input when run as a program", async () => {
  const cli = fromFileUrl(new URL("../../cli.ts", import.meta.url));
  const p = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", cli, "console", "-var", "foo=piped", join(FIXTURES, "hcl")],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = p.stdin.getWriter();
  await w.write(new TextEncoder().encode("nope\nupper(var.foo)"));
  await w.close();
  const r = await p.output();
  const stderr = new TextDecoder().decode(r.stderr);
  assertEquals(new TextDecoder().decode(r.stdout), "PIPED\n");
  assert(stderr.includes("Error: Unknown variable"), stderr);
  assertEquals(r.code, 1);
});
