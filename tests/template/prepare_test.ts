/**
 * prepareTemplate with the real component registries: build selection,
 * provisioner overrides and only/except, post-processor chains, build-time
 * strings, secrets and the inputs digest.
 */
import { assert, assertEquals } from "./assert.ts";
import { prepareTemplate } from "../../template/prepare.ts";
import { interpolateConfig, resolveBuildData } from "../../template/interpolate.ts";
import type { ConfigSchema } from "../../template/schema.ts";
import { TemplateError, type TemplateInputs } from "../../template/types.ts";
import { withTempDir, writeFile } from "./helpers.ts";
import { kilnRegistry } from "../../registry.ts";

/** Prepares with kiln's own components, as the CLI does. */
const prepare = (file: string, inputs: TemplateInputs = {}) =>
  prepareTemplate(file, inputs, { registry: kilnRegistry });

const none = (name: string) => ({ type: "null", name, communicator: "none" });

Deno.test("-only/-except select builds by name or glob; components follow only/except", async () => {
  await withTempDir(async (dir) => {
    const file = await writeFile(dir, "t.json", {
      builders: [none("alpha"), none("beta"), none("gamma")],
      provisioners: [
        { type: "shell-local", inline: ["all"] },
        { type: "shell-local", inline: ["only-beta"], only: ["beta"] },
        { type: "shell-local", inline: ["not-beta"], except: ["beta"] },
      ],
      "post-processors": [
        [
          { type: "shell-local", inline: ["first"] },
          { type: "shell-local", inline: ["skipped-for-alpha"], except: ["alpha"] },
          { type: "shell-local", inline: ["after-skip"] },
        ],
        { type: "shell-local", name: "named", inline: ["named"] },
      ],
    });
    const all = await prepare(file);
    assertEquals(all.builds.map((b) => b.name), ["alpha", "beta", "gamma"]);
    const inline = (b: (typeof all.builds)[0]) =>
      b.provisioners.map((p) => (p.config.inline as string[])[0]);
    assertEquals(inline(all.builds[0]), ["all", "not-beta"]);
    assertEquals(inline(all.builds[1]), ["all", "only-beta"]);
    assertEquals(all.builds[1].provisioners.map((p) => p.index), [0, 1]);
    // A chain stops at its first skipped post-processor.
    assertEquals(all.builds[0].postProcessors.map((c) => c.length), [1, 1]);
    assertEquals(all.builds[1].postProcessors.map((c) => c.length), [3, 1]);
    assertEquals(all.builds[1].postProcessors[1][0].name, "named");
    assertEquals((await prepare(file, { only: ["b*"] })).builds.map((b) => b.name), [
      "beta",
    ]);
    assertEquals(
      (await prepare(file, { except: ["alpha", "gam?a"] })).builds.map((b) => b.name),
      ["beta"],
    );
    // -except can also name a post-processor; an unnamed one is named after its type.
    const noNamed = await prepare(file, { except: ["named"] });
    assertEquals(noNamed.builds[0].postProcessors.length, 1);
    const noShellLocal = await prepare(file, { except: ["shell-local"] });
    assertEquals(noShellLocal.builds.length, 3);
    assertEquals(noShellLocal.builds[0].postProcessors.length, 1);
  });
});

Deno.test("provisioner overrides merge per build name; common options are decoded", async () => {
  await withTempDir(async (dir) => {
    const file = await writeFile(dir, "t.json", {
      builders: [none("a"), none("b")],
      provisioners: [{
        type: "shell-local",
        inline: ["default"],
        override: { b: { inline: ["for-b"] } },
        pause_before: "1m30s",
        max_retries: "2",
        timeout: "5m",
      }],
    });
    const p = await prepare(file);
    assertEquals(p.builds[0].provisioners[0].config.inline, ["default"]);
    assertEquals(p.builds[1].provisioners[0].config.inline, ["for-b"]);
    const prov = p.builds[0].provisioners[0];
    assertEquals([prov.pauseBefore, prov.maxRetries, prov.timeout], [90_000, 2, 300_000]);
  });
});

Deno.test("a problem in an override points into that override", async () => {
  await withTempDir(async (dir) => {
    const file = await writeFile(dir, "t.json", {
      builders: [none("a"), none("b")],
      provisioners: [{ type: "shell-local", inline: ["x"], override: { b: { bogus: 1 } } }],
    });
    try {
      await prepare(file);
      throw new Error("expected a TemplateError");
    } catch (err) {
      assert(err instanceof TemplateError);
      assertEquals(err.issues.map((i) => i.path), ["provisioners[0].override.b.bogus"]);
      assertEquals(err.issues[0].line, 22);
    }
  });
});

Deno.test("strings interpolate per build; build strings stay raw for provision time", async () => {
  await withTempDir(async (dir) => {
    const file = await writeFile(dir, "t.json", {
      variables: { who: "world" },
      builders: [
        {
          type: "file",
          name: "one",
          target: "{{build_name}}-{{build_type}}.txt",
          content: "hi {{user `who`}}",
        },
      ],
      provisioners: [{
        type: "shell-local",
        inline: ["echo {{build_name}}", "echo {{ build `ID` }}"],
      }],
    });
    const p = await prepare(file);
    assertEquals(p.builds[0].config.target, "one-file.txt");
    assertEquals(p.builds[0].config.content, "hi world");
    assertEquals(p.builds[0].provisioners[0].config.inline, ["echo one", "echo {{ build `ID` }}"]);
    assertEquals(p.variables, { who: "world" });
  });
});

Deno.test("a provisioner that needs a communicator is refused on a communicator-none build", async () => {
  await withTempDir(async (dir) => {
    const file = await writeFile(dir, "t.json", {
      builders: [none("n")],
      provisioners: [{ type: "shell", inline: ["x"] }],
    });
    try {
      await prepare(file);
      throw new Error("expected a TemplateError");
    } catch (err) {
      assert(err instanceof TemplateError);
      assertEquals(err.issues[0].path, "provisioners[0]");
      assert(err.issues[0].message.includes("needs a communicator"));
    }
  });
});

Deno.test("secrets: sensitive variables and sensitive options; digest follows the variables", async () => {
  await withTempDir(async (dir) => {
    const file = await writeFile(dir, "t.json", {
      variables: { pw: "s3cret-pw", tag: "x" },
      "sensitive-variables": ["pw"],
      builders: [{
        type: "null",
        ssh_host: "127.0.0.1",
        ssh_username: "u",
        ssh_password: "ssh-pass-{{user `tag`}}",
      }],
    });
    const a = await prepare(file);
    assert(a.secrets.includes("s3cret-pw"));
    assert(a.secrets.includes("ssh-pass-x"));
    const same = await prepare(file);
    const other = await prepare(file, { vars: [{ kind: "var", name: "tag", value: "y" }] });
    assertEquals(a.inputsDigest, same.inputsDigest);
    assert(a.inputsDigest !== other.inputsDigest);
  });
});

Deno.test("an issue quoting a sensitive value shows <sensitive> instead", async () => {
  await withTempDir(async (dir) => {
    const file = await writeFile(dir, "t.json", {
      variables: { port: "hunter2" },
      "sensitive-variables": ["port"],
      builders: [{
        type: "null",
        ssh_host: "127.0.0.1",
        ssh_username: "u",
        ssh_password: "pw",
        ssh_port: "{{user `port`}}",
      }],
    });
    try {
      await prepare(file);
      throw new Error("expected a TemplateError");
    } catch (err) {
      assert(err instanceof TemplateError);
      assertEquals(err.issues.map((i) => i.path), ["builders[0].ssh_port"]);
      assert(!err.message.includes("hunter2"), err.message);
      assert(err.issues[0].message.includes("<sensitive>"));
    }
  });
});

Deno.test("every issue of every build is reported at once", async () => {
  await withTempDir(async (dir) => {
    const file = await writeFile(dir, "t.json", {
      builders: [{ type: "file", name: "f", bogus: 1 }, { type: "frob" }],
      provisioners: [{ type: "shell-local", inline: ["{{ nope }}"] }],
    });
    try {
      await prepare(file);
      throw new Error("expected a TemplateError");
    } catch (err) {
      assert(err instanceof TemplateError);
      const paths = err.issues.map((i) => i.path);
      assert(paths.includes("builders[0].bogus"), paths.join());
      assert(paths.includes("builders[0].target"), paths.join());
      assert(paths.includes("builders[1].type"), paths.join());
      assert(paths.includes("provisioners[0].inline[0]"), paths.join());
    }
  });
});

Deno.test("late fields keep their text; resolveBuildData renders build strings only", () => {
  const schema: ConfigSchema = {
    fields: {
      execute_command: { type: "string", late: true },
      env: { type: "string_list" },
      nested: { type: "object", item: { fields: { host: { type: "string" } } } },
    },
  };
  const issues: string[] = [];
  const ctx = { variables: { v: "V" }, templateDir: "/d", buildName: "b", buildType: "null" };
  const raw = {
    execute_command: "{{.Vars}} bash {{.Path}}",
    env: ["A={{user `v`}}", "H={{ build `Host` }}"],
    nested: { host: "{{ build `Host` }}:{{ build_name }}" },
  };
  const out = interpolateConfig(
    raw,
    schema,
    "provisioners[0]",
    { ctx, deferBuild: true },
    (p, m) => issues.push(`${p}: ${m}`),
  );
  assertEquals(issues, []);
  assertEquals(out, {
    execute_command: "{{.Vars}} bash {{.Path}}",
    env: ["A=V", "H={{ build `Host` }}"],
    nested: { host: "{{ build `Host` }}:{{ build_name }}" },
  });
  const resolved = resolveBuildData(out, schema, { ...ctx, buildData: { Host: "10.0.0.1" } });
  assertEquals(resolved, {
    execute_command: "{{.Vars}} bash {{.Path}}",
    env: ["A=V", "H=10.0.0.1"],
    nested: { host: "10.0.0.1:b" },
  });
  const bad: string[] = [];
  interpolateConfig(
    { execute_command: "{{ .Path " },
    schema,
    "p",
    { ctx, deferBuild: true },
    (p, m) => bad.push(`${p}: ${m}`),
  );
  assertEquals(bad.length, 1);
  assert(bad[0].startsWith("p.execute_command: template: root:1: unclosed action"));
});

Deno.test("a builder name that cannot be rendered is refused, as Packer refuses it", async () => {
  await withTempDir(async (dir) => {
    const file = await writeFile(dir, "t.json", {
      variables: { x: "v" },
      builders: [none("ok-{{user `x`}}"), none("{{ isotime | clean_ami_name }}")],
    });
    let issues: string[] = [];
    try {
      await prepare(file);
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      issues = err.issues.map((i) => `${i.path}: ${i.message}`);
    }
    assertEquals(issues, [
      "builders[1].name: Error interpolating builder '{{ isotime | clean_ami_name }}': " +
      'template: root:1: function "clean_ami_name" not defined ' +
      "(now clean_resource_name: `kiln fix` rewrites it in builders)",
    ]);
  });
});
