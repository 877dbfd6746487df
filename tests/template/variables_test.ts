/** User variables: defaults, required, -var/-var-file order, env, references, sensitivity. */
import { assertEquals, assertRejects } from "./assert.ts";
import { resolveVariables } from "../../template/variables.ts";
import { parseTemplate } from "../../template/parse.ts";
import { TemplateError } from "../../template/types.ts";
import { withTempDir, writeFile } from "./helpers.ts";

const builders = [{ type: "null", communicator: "none" }];

async function resolve(
  dir: string,
  variables: Record<string, unknown>,
  vars: ({ kind: "var"; name: string; value: string } | { kind: "file"; path: string })[] = [],
  extra: Record<string, unknown> = {},
) {
  const file = await writeFile(dir, "t.json", { variables, builders, ...extra });
  return resolveVariables(await parseTemplate(file), { vars });
}

async function issuesOf(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TemplateError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  throw new Error("expected a TemplateError");
}

Deno.test("later -var / -var-file flags override earlier ones of either kind", async () => {
  await withTempDir(async (dir) => {
    const vf = await writeFile(dir, "v.json", { a: "file", b: "file" });
    const r = await resolve(dir, { a: "default", b: "default", c: "default" }, [
      { kind: "var", name: "a", value: "flag" },
      { kind: "file", path: vf },
      { kind: "var", name: "b", value: "flag-after-file" },
    ]);
    assertEquals(r.values, { a: "file", b: "flag-after-file", c: "default" });
  });
});

Deno.test("every missing required variable is listed, and a -var satisfies one", async () => {
  await withTempDir(async (dir) => {
    const issues = await issuesOf(resolve(dir, { x: null, y: null, z: "" }));
    assertEquals(issues.length, 2);
    assertEquals(issues[0].startsWith("variables.x: required variable not set: x"), true);
    assertEquals(issues[1].startsWith("variables.y: required variable not set: y"), true);
    const ok = await resolve(dir, { x: null }, [{ kind: "var", name: "x", value: "" }]);
    assertEquals(ok.values.x, "");
  });
});

Deno.test("defaults render with env and may use other variables in any order", async () => {
  Deno.env.set("KILN_VAR_TEST", "from-env");
  try {
    await withTempDir(async (dir) => {
      const r = await resolve(dir, {
        a: "{{user `b`}}-x",
        b: "{{ upper `y` }}",
        c: "{{user `a`}}",
        home: "{{env `KILN_VAR_TEST`}}",
      }, [{ kind: "var", name: "d", value: "{{ lower `Q` }}" }]);
      assertEquals(r.values, { a: "Y-x", b: "Y", c: "Y-x", home: "from-env", d: "q" });
    });
  } finally {
    Deno.env.delete("KILN_VAR_TEST");
  }
});

Deno.test("a variable cycle or an undefined reference is an error naming each variable", async () => {
  await withTempDir(async (dir) => {
    const issues = await issuesOf(
      resolve(dir, { a: "{{user `b`}}", b: "{{user `a`}}", c: "{{user `zz`}}" }),
    );
    assertEquals(issues.length, 3);
    assertEquals(issues.map((i) => i.split(":")[0]), ["variables.a", "variables.b", "variables.c"]);
  });
});

Deno.test("a -var for an undeclared variable is accepted (as Packer does)", async () => {
  await withTempDir(async (dir) => {
    const r = await resolve(dir, {}, [{ kind: "var", name: "extra", value: "1" }]);
    assertEquals(r.values, { extra: "1" });
  });
});

Deno.test("sensitive variable values become secrets; the failure message never shows them", async () => {
  await withTempDir(async (dir) => {
    const r = await resolve(dir, { pw: "hunter2", plain: "x", empty: "" }, [], {
      "sensitive-variables": ["pw", "empty"],
    });
    assertEquals(r.secrets, ["hunter2"]);
    const issues = await issuesOf(
      resolve(dir, { pw: "{{user `nope`}}hunter2" }, [], { "sensitive-variables": ["pw"] }),
    );
    assertEquals(issues.some((i) => i.includes("hunter2")), false);
    assertEquals(issues[0].includes("<sensitive>"), true);
  });
});

Deno.test("an unreadable or malformed var-file is an issue naming the file", async () => {
  await withTempDir(async (dir) => {
    const file = await writeFile(dir, "t.json", { builders });
    const t = await parseTemplate(file);
    const firstIssue = async (path: string) => {
      const err = await assertRejects(
        () => resolveVariables(t, { vars: [{ kind: "file", path }] }),
        TemplateError,
      ) as unknown;
      void err;
      try {
        await resolveVariables(t, { vars: [{ kind: "file", path }] });
      } catch (e) {
        return (e as TemplateError).issues[0];
      }
      throw new Error("unreachable");
    };
    const missing = `${dir}/nope.json`;
    const m = await firstIssue(missing);
    assertEquals([m.file, m.message], [missing, "cannot read var-file: no such file"]);
    const bad = await writeFile(dir, "bad.json", '{"a": "x",\n "b": 1}');
    const b = await firstIssue(bad);
    assertEquals([b.file, b.path, b.line, b.column], [bad, "b", 2, 7]);
    const broken = await writeFile(dir, "broken.json", "{oops");
    const k = await firstIssue(broken);
    assertEquals([k.file, k.line, k.column], [broken, 1, 2]);
  });
});
