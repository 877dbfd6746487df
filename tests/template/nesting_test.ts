/**
 * Deep nesting stops at kiln's documented limits (template/limits.ts) with a
 * clear error naming the file, the JSON path and the limit: objects and
 * arrays in JSON and YAML (aliases expanded), parentheses and blocks in the
 * template engine. Never a stack overflow, never an internal error.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { withTempDir } from "./helpers.ts";
import { prepareIssues } from "./issues.ts";
import { MAX_ENGINE_NESTING, MAX_NESTING } from "../../template/limits.ts";
import { renderString } from "../../template/engine.ts";
import { EngineError } from "../../template/engine_parse.ts";
import { runKiln } from "../support/kiln_cli.ts";
import { writeFile } from "./helpers.ts";

const NULL = '{"type": "null", "communicator": "none"}';

/** A template whose `_x` is `depth` nested arrays (JSON) or a YAML document shaped the same. */
const jsonArrays = (depth: number) =>
  `{"builders": [${NULL}],\n "_x": ${"[".repeat(depth)}${"]".repeat(depth)}}`;

function yamlNested(kind: "flow" | "seq" | "map", depth: number): string {
  const head = 'builders:\n  - type: "null"\n    communicator: none\n_x:';
  if (kind === "flow") return `${head} ${"[".repeat(depth)}${"]".repeat(depth)}\n`;
  if (kind === "seq") return `${head}\n ${"- ".repeat(depth)}x\n`;
  const lines = Array.from({ length: depth }, (_, i) => `${" ".repeat(i + 1)}k${i}:`);
  return `${head}\n${lines.join("\n")}\n${" ".repeat(depth + 1)}v\n`;
}

/** Everything but the error about the comment's type: the depth itself was accepted. */
const depthIssues = (issues: { message: string }[]) =>
  issues.filter((i) => !/root level comment must be a string/.test(i.message));

Deno.test("JSON: objects and arrays nest up to the limit; one level more is refused with file, path and position", async () => {
  await withTempDir(async (dir) => {
    // The root object is one level.
    assertEquals(
      depthIssues((await prepareIssues(dir, "ok.json", jsonArrays(MAX_NESTING - 1))).issues),
      [],
    );
    for (const depth of [MAX_NESTING, 100_000]) {
      const { file, issues } = await prepareIssues(dir, "deep.json", jsonArrays(depth));
      assertEquals(issues.length, 1);
      const [issue] = issues;
      assertEquals([issue.file, issue.line, issue.column], [file, 2, 8 + MAX_NESTING - 1]);
      assertMatch(issue.path, /^_x\[0\]\[0\]\[0\].*…$/);
      assertMatch(
        issue.message,
        new RegExp(`nest deeper than ${MAX_NESTING} levels \\(kiln's limit`),
      );
    }
  });
});

Deno.test("YAML: flow, block-sequence and block-map nesting stop at the same limit, with the path", async () => {
  await withTempDir(async (dir) => {
    for (const kind of ["flow", "seq", "map"] as const) {
      const ok = await prepareIssues(dir, "ok.yaml", yamlNested(kind, MAX_NESTING - 1));
      assertEquals(depthIssues(ok.issues), [], kind);
      for (const depth of [MAX_NESTING, 3_000]) {
        const { file, issues } = await prepareIssues(dir, "deep.yaml", yamlNested(kind, depth));
        assertEquals(issues.length, 1, kind);
        const [issue] = issues;
        assertEquals(issue.file, file);
        assertMatch(issue.message, /^error parsing YAML: objects and arrays nest deeper than 500/);
        assertMatch(issue.path, kind === "map" ? /^_x\.k0\.k1\.k2.*…$/ : /^_x\[0\]\[0\].*…$/);
        assert(issue.line !== undefined && issue.line >= 4, `${kind}: ${issue.line}`);
      }
    }
  });
});

Deno.test("YAML: the parser stops at the limit, so a 2 MB line of brackets costs no gigabyte", async () => {
  await withTempDir(async (dir) => {
    for (const kind of ["flow", "seq"] as const) {
      const before = Deno.memoryUsage().rss;
      const { issues } = await prepareIssues(dir, "huge.yaml", yamlNested(kind, 1_000_000));
      const grew = Deno.memoryUsage().rss - before;
      assertMatch(issues[0].message, /nest deeper than 500 levels/);
      assert(grew < 200 << 20, `${kind}: RSS grew by ${grew >> 20} MiB`);
    }
  });
});

Deno.test("YAML: aliases are bounded in count and, once expanded, in depth", async () => {
  await withTempDir(async (dir) => {
    const half = Math.floor(MAX_NESTING * 0.8);
    const deep = await prepareIssues(
      dir,
      "alias.yaml",
      `a0: &a0 ${"[".repeat(half)}x${"]".repeat(half)}\n` +
        `a1: ${"[".repeat(half)}*a0${"]".repeat(half)}\n` +
        'builders:\n  - type: "null"\n    communicator: none\n',
    );
    const issue = deep.issues[0];
    assertEquals(deep.issues.length, 1);
    assertEquals([issue.file, issue.line], [deep.file, 2]);
    assertMatch(issue.message, /nest deeper than 500 levels .* once aliases are expanded$/);
    assertMatch(issue.path, /^a1\[0\]\[0\]/);

    const laughs = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 10; i++) {
      laughs.push(`l${i}: &l${i} [${Array(10).fill(`*l${i - 1}`).join(", ")}]`);
    }
    const bomb = await prepareIssues(dir, "bomb.yaml", laughs.join("\n") + "\nbuilders: []\n");
    assertEquals(bomb.issues.length, 1);
    assertMatch(bomb.issues[0].message, /aliases expand more than 100 times/);
    assertEquals(bomb.issues[0].path, "l1[0]");
  });
});

const render = (text: string) => renderString(text, { variables: {}, templateDir: "." });

function engineError(text: string): string {
  try {
    render(text);
  } catch (err) {
    if (err instanceof EngineError) return err.message;
    throw err;
  }
  throw new Error("expected an engine error");
}

Deno.test("engine: parentheses nest up to the limit; deeper is 'max expression depth exceeded'", () => {
  const parens = (n: number) => `{{ ${"(".repeat(n)}upper \`a\`${")".repeat(n)} }}`;
  const args = (n: number) => `{{ ${"printf `%s` (".repeat(n)}\`a\`${")".repeat(n)} }}`;
  assertEquals(render(parens(MAX_ENGINE_NESTING)), "A");
  assertEquals(render(args(MAX_ENGINE_NESTING)), "a");
  for (const n of [MAX_ENGINE_NESTING + 1, 20_000]) {
    assertMatch(
      engineError(parens(n)),
      /^template: root:1: max expression depth exceeded: parentheses nest more than 100 levels/,
    );
    assertMatch(engineError(args(n)), /max expression depth exceeded/);
  }
});

Deno.test("engine: if/with/range blocks nest up to the limit; an else-if chain of any length is fine", () => {
  const ifs = (n: number) => `${"{{if true}}".repeat(n)}x${"{{end}}".repeat(n)}`;
  const withs = (n: number) => `${"{{with `a`}}".repeat(n)}{{.}}${"{{end}}".repeat(n)}`;
  assertEquals(render(ifs(MAX_ENGINE_NESTING)), "x");
  assertEquals(render(withs(MAX_ENGINE_NESTING)), "a");
  for (const n of [MAX_ENGINE_NESTING + 1, 20_000]) {
    assertMatch(engineError(ifs(n)), /blocks nest more than 100 levels \(kiln's limit\)/);
    assertMatch(engineError(withs(n)), /blocks nest more than 100 levels/);
  }
  const chain = (n: number, last: string) =>
    `{{if false}}a${"{{else if false}}b".repeat(n)}{{else if true}}${last}{{else}}c{{end}}`;
  assertEquals(render(chain(20_000, "hit")), "hit");
  // Variables declared in an earlier link are in scope in the later ones, as in Go.
  assertEquals(
    render(
      "{{if $x := `v`}}{{if false}}{{end}}{{end}}{{if $y := ``}}{{else if $y}}{{else}}e{{end}}",
    ),
    "e",
  );
  // Function names are checked through the whole chain without recursion.
  assertMatch(engineError(chain(20_000, "{{ nosuch }}")), /function "nosuch" not defined/);
});

Deno.test("as a process: deep nesting of every kind exits 1 with the path, never an internal error", async () => {
  await withTempDir(async (dir) => {
    const prov = (s: string) => ({
      builders: [{ type: "null", communicator: "none" }],
      provisioners: [{ type: "shell-local", inline: [s] }],
    });
    await writeFile(
      dir,
      "parens.json",
      prov(`{{ ${"(".repeat(20_000)}upper \`a\`${")".repeat(20_000)} }}`),
    );
    await writeFile(
      dir,
      "ifs.json",
      prov(`${"{{if true}}".repeat(20_000)}x${"{{end}}".repeat(20_000)}`),
    );
    await writeFile(dir, "arrays.json", jsonArrays(100_000));
    await writeFile(dir, "flow.yaml", yamlNested("flow", 100_000));
    const expected: Record<string, RegExp> = {
      "parens.json":
        /parens\.json:\d+:\d+: provisioners\[0\]\.inline\[0\]: template: root:1: max expression depth exceeded/,
      "ifs.json":
        /ifs\.json:\d+:\d+: provisioners\[0\]\.inline\[0\]: template: root:1: .*blocks nest more than 100/,
      "arrays.json":
        /arrays\.json:2:\d+: _x\[0\]\[0\].*…: error parsing JSON: objects and arrays nest deeper/,
      "flow.yaml":
        /flow\.yaml:4:\d+: _x\[0\].*…: error parsing YAML: objects and arrays nest deeper/,
    };
    for (const [file, message] of Object.entries(expected)) {
      for (const command of ["validate", "build"]) {
        const out = await runKiln([command, file], { cwd: dir, home: `${dir}/.kiln` });
        const text = out.stdout + out.stderr;
        assertEquals(out.code, 1, `${command} ${file}: ${text}`);
        assertMatch(text, message, `${command} ${file}`);
        assert(
          !/internal error|Maximum call stack|\n\s+at /.test(text),
          `${command} ${file}: ${text}`,
        );
      }
    }
  });
});
