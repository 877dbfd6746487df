/**
 * `formatHcl` against `packer fmt`: every `<case>.in.pkr.hcl` under
 * tests/fixtures/hcl/fmt/ must come out byte for byte as Packer 1.6.6
 * formatted it (`<case>.packer.pkr.hcl`, recorded by record.sh there), and
 * formatting must be idempotent. Where 1.6.6 has a bug that later hclwrite
 * fixed, `<case>.current.pkr.hcl` holds the current behaviour kiln follows.
 */
import assert from "node:assert/strict";
import { formatHcl } from "../../../template/hcl/fmt.ts";
import { checkHclSyntax } from "../../../template/hcl/syntax_check.ts";
import { HclSyntaxError } from "../../../template/hcl/lexer.ts";

const DIR = new URL("../../fixtures/hcl/fmt/", import.meta.url);

function read(name: string): string | undefined {
  try {
    return Deno.readTextFileSync(new URL(name, DIR));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

const cases = [...Deno.readDirSync(DIR)]
  .map((e) => e.name)
  .filter((n) => n.endsWith(".in.pkr.hcl"))
  .map((n) => n.slice(0, -".in.pkr.hcl".length))
  .sort();

Deno.test("fmt corpus: enough cases, each with Packer's recorded output", () => {
  assert.ok(cases.length >= 25, `only ${cases.length} cases`);
  for (const c of cases) {
    assert.ok(read(`${c}.packer.pkr.hcl`) !== undefined, `${c} has no recording`);
  }
});

for (const c of cases) {
  Deno.test(`fmt corpus: ${c} is formatted as packer fmt does, and stays so`, () => {
    const input = read(`${c}.in.pkr.hcl`)!;
    const packer = read(`${c}.packer.pkr.hcl`)!;
    const current = read(`${c}.current.pkr.hcl`);
    if (current !== undefined) {
      // The one 1.6.6 bug (fixed in hclwrite, Dec 2020): a space after the boolean NOT.
      assert.equal(packer.replaceAll("! ", "!"), current, "deviation is only the `! x` fix");
    }
    const expected = current ?? packer;
    assert.equal(checkHclSyntax(input), undefined, "Packer parsed this input");
    const got = formatHcl(input);
    assert.equal(got, expected);
    assert.equal(formatHcl(got), got, "formatting formatted output changes nothing");
  });
}

Deno.test("fmt keeps string contents, heredoc bodies and comments exactly as written", () => {
  const source = 'a="x  =  y ${ z }"\nb=<<EOF\n  a  =  b   \nEOF\n#   c  =  d\n/*  e=f */\n';
  assert.equal(
    formatHcl(source),
    'a = "x  =  y ${z}"\nb = <<EOF\n  a  =  b   \nEOF\n#   c  =  d\n/*  e=f */\n',
  );
});

Deno.test("syntax errors name the line and column of the first mistake", () => {
  const cases: [string, number, number, RegExp][] = [
    ["a = 1\nb = \n", 2, 5, /Invalid expression/],
    ["a = 1 b = 2\n", 1, 7, /Missing newline after argument/],
    ['x "l" {\n  a = 1\n', 1, 7, /Unclosed configuration block/],
    ['a = "unterminated\n', 1, 18, /Unterminated template string/],
    ["a = <<EOF\nx\n", 1, 5, /Unterminated heredoc/],
    ["a = [1,,2]\n", 1, 8, /Invalid expression/],
    ["a = 1 & 2\n", 1, 7, /Invalid character/],
    ["x {\n  a = 1 }\n", 2, 9, /Missing newline after argument/],
  ];
  for (const [source, line, column, message] of cases) {
    const err = checkHclSyntax(source);
    assert.ok(err instanceof HclSyntaxError, `no error for ${JSON.stringify(source)}`);
    assert.deepEqual([err.line, err.column], [line, column], JSON.stringify(source));
    assert.match(err.message, message);
  }
});

Deno.test("valid HCL that looks odd passes the syntax check", () => {
  for (
    const source of [
      "a = (1 +\n  2)\n",
      "f { a = 1 }\n",
      "a = [1 # c\n, 2]\n",
      'a = "%{ for x in y }${x}%{ endfor }"\n',
      "a = { for k, v in m : k => v... if v }\n",
      "a = <<-EOF\n  x\n  EOF\n",
      "a = x.0\n",
    ]
  ) assert.equal(checkHclSyntax(source), undefined, JSON.stringify(source));
});
