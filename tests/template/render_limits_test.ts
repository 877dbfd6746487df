/**
 * Runaway expansion stops while strings grow: one rendered string is at most
 * MAX_RENDERED_LENGTH (16 MiB), everything one template renders at most
 * MAX_RENDERED_TOTAL (64 MiB). The error names the file and the variable or
 * JSON path; memory stays bounded. Large values that do not expand still work.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { withTempDir, writeFile } from "./helpers.ts";
import { issueAt, prepareIssues } from "./issues.ts";
import { prepareTemplate } from "../../template/prepare.ts";
import { renderString } from "../../template/engine.ts";
import { EngineError } from "../../template/engine_parse.ts";
import { MAX_RENDERED_LENGTH } from "../../template/limits.ts";
import { kilnRegistry } from "../../registry.ts";

const NULL = { type: "null", communicator: "none" };
const TOO_LONG =
  /the rendered value would be longer than 16 MiB \(kiln's limit on one rendered string\)/;

/** v0 = `seed`, v(i) = v(i-1) twice: v(n) is `seed` repeated 2^n times. */
function doubling(levels: number, seed = "ab"): Record<string, string> {
  const vars: Record<string, string> = { v0: seed };
  for (let i = 1; i <= levels; i++) vars[`v${i}`] = `{{user \`v${i - 1}\`}}{{user \`v${i - 1}\`}}`;
  return vars;
}

Deno.test("a variable that doubles itself stops at 16 MiB, naming the variable; memory stays bounded", async () => {
  await withTempDir(async (dir) => {
    const before = Deno.memoryUsage().rss;
    const started = Date.now();
    const { file, issues } = await prepareIssues(dir, "t.json", {
      variables: doubling(30),
      builders: [NULL],
    });
    const grew = Deno.memoryUsage().rss - before;
    const first = issueAt(issues, "variables.v24");
    assertEquals(first.file, file);
    assert(first.line !== undefined);
    assertMatch(first.message, /^error interpolating the value of "v24": template: root:1:\d+: /);
    assertMatch(first.message, TOO_LONG);
    // The ones built on it say so briefly instead of blaming a cycle.
    assertEquals(
      issueAt(issues, "variables.v25").message,
      'the value of "v25" uses "v24", which could not be rendered',
    );
    assertEquals(issues.length, 7, issues.map((i) => i.message).join("\n"));
    assert(grew < 300 << 20, `RSS grew by ${grew >> 20} MiB`);
    assert(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  });
});

Deno.test("functions that multiply their input stop at the limit, naming the JSON path", async () => {
  await withTempDir(async (dir) => {
    const cases: [string, string][] = [
      ["replace_all", "{{ replace_all `a` `" + "b".repeat(1024) + "` (user `base`) }}"],
      ["replace", "{{ replace `` `" + "b".repeat(1024) + "` -1 (user `base`) }}"],
      ["printf width", "{{ printf `%10000000d%10000000d` 1 2 }}"],
      ["printf %x", "{{ printf `%x` (user `v23`) }}"],
      ["print", "{{ print (user `v22`) (user `v22`) (user `v22`) }}"],
      ["println", "{{ println (user `v22`) (user `v22`) (user `v22`) }}"],
      ["html", "{{ html (user `amp`) }}"],
      ["urlquery", "{{ urlquery (user `eszett`) }}"],
      ["upper", "{{ upper (user `eszett`) }}"],
      ["output", "{{ user `v23` }}{{ user `v23` }}"],
    ];
    const { file, issues } = await prepareIssues(dir, "t.json", {
      variables: {
        ...doubling(23),
        base: "a".repeat(1 << 16),
        amp: "{{ user `amp4` }}{{ user `amp4` }}",
        amp4: "&".repeat(1 << 21),
        eszett: "ß".repeat(9 << 20),
      },
      builders: [NULL],
      provisioners: cases.map(([, text]) => ({ type: "shell-local", inline: [text] })),
    });
    cases.forEach(([what], i) => {
      const issue = issueAt(issues, `provisioners[${i}].inline[0]`);
      assertEquals(issue.file, file, what);
      assertMatch(issue.message, /^template: root:1:\d+: executing "root" at </, what);
      assertMatch(issue.message, TOO_LONG, what);
    });
    assertEquals(issues.length, cases.length, issues.map((i) => i.message).join("; "));
  });
});

Deno.test("everything one template renders is bounded too: one error at the first option past 64 MiB", async () => {
  await withTempDir(async (dir) => {
    const { issues } = await prepareIssues(dir, "t.json", {
      variables: doubling(22),
      builders: [NULL],
      provisioners: Array.from({ length: 40 }, () => ({
        type: "shell-local",
        inline: ["x{{user `v22`}}"],
      })),
    });
    assertEquals(issues.length, 1, issues.map((i) => `${i.path}: ${i.message}`).join("\n"));
    assertMatch(issues[0].path, /^provisioners\[\d\]\.inline\[0\]$/);
    assertMatch(
      issues[0].message,
      /rendering this template produces more than 64 MiB of text in all \(kiln's limit on everything one template renders\)/,
    );
  });
});

Deno.test("large values are fine up to the limit; strings without {{ }} are never rendered", async () => {
  await withTempDir(async (dir) => {
    const vars = await writeFile(dir, "vars.json", { big: "z".repeat(MAX_RENDERED_LENGTH) });
    const file = await writeFile(dir, "t.json", {
      variables: { big: null, plain: "y".repeat(40 << 20) },
      builders: [{ type: "file", target: "out.txt", content: "{{user `big`}}" }],
    });
    const prepared = await prepareTemplate(file, { vars: [{ kind: "file", path: vars }] }, {
      registry: kilnRegistry,
    });
    assertEquals((prepared.builds[0].config.content as string).length, MAX_RENDERED_LENGTH);
    assertEquals(prepared.variables.plain.length, 40 << 20);
  });
});

Deno.test("a rendering outside a template's preparation (at build time) has the same limit", () => {
  const v = "q".repeat(MAX_RENDERED_LENGTH / 2 + 1);
  let caught: unknown;
  try {
    renderString("{{ build `A` }}{{ build `A` }}", {
      variables: {},
      templateDir: ".",
      buildData: { A: v },
    });
  } catch (err) {
    caught = err;
  }
  assert(caught instanceof EngineError, String(caught));
  assertMatch(
    (caught as Error).message,
    /^template: root:1:\d+: executing "root" at <build `A`>: /,
  );
  assertEquals(
    renderString("{{ build `A` }}", { variables: {}, templateDir: ".", buildData: { A: v } }),
    v,
  );
});
