/** parseTemplate: JSON/YAML, positions, root keys, component forms, structural errors. */
import { assert, assertEquals } from "./assert.ts";
import { locate, parseTemplate } from "../../template/parse.ts";
import { parseJsonSource, SourceSyntaxError } from "../../template/source.ts";
import { TemplateError, type TemplateIssue } from "../../template/types.ts";
import { withTempDir, writeFile } from "./helpers.ts";

async function issues(dir: string, content: unknown, name = "t.json"): Promise<TemplateIssue[]> {
  const file = await writeFile(dir, name, content);
  try {
    await parseTemplate(file);
  } catch (err) {
    if (err instanceof TemplateError) return err.issues;
    throw err;
  }
  throw new Error("expected the template to be rejected");
}

Deno.test("malformed JSON gives the line and column of the offending character", async () => {
  await withTempDir(async (dir) => {
    const [issue] = await issues(
      dir,
      '{\n  "builders": [\n    {"type": "null",, "x": 1}\n  ]\n}\n',
    );
    assertEquals([issue.line, issue.column, issue.path], [3, 21, ""]);
    assert(issue.message.startsWith("error parsing JSON:"));
    const [eof] = await issues(dir, '{"builders": [');
    assertEquals([eof.line, eof.column], [1, 15]);
    const [trailing] = await issues(dir, '{"builders": []} x');
    assertEquals([trailing.line, trailing.column], [1, 18]);
  });
});

Deno.test("the JSON scanner accepts what JSON.parse accepts and records every value's position", () => {
  const text = '{\n "a": [1, {"b": "\\u00e9\\n"}],\n "c d": -1.5e3, "e": null, "a": "last"\n}';
  const doc = parseJsonSource(text);
  assertEquals(doc.value, JSON.parse(text));
  assertEquals(doc.positions.get("c d"), undefined);
  assertEquals(doc.positions.get('["c d"]'), { line: 3, column: 9 });
  assertEquals(doc.positions.get("a"), { line: 3, column: 33 });
  for (const bad of ["", "{", '{"a":}', "[1,]", '{"a" 1}', '"\u0001"', "01", "tru", '{"a":1,}']) {
    let threw = false;
    try {
      parseJsonSource(bad);
    } catch (err) {
      threw = err instanceof SourceSyntaxError;
    }
    assert(threw, `${JSON.stringify(bad)} must be a syntax error`);
  }
});

Deno.test("a template's values can be located by JSON path", async () => {
  await withTempDir(async (dir) => {
    const file = await writeFile(
      dir,
      "t.json",
      '{\n  "builders": [\n    {"type": "null"},\n    {"type": "file", "ssh_port": "x"}\n  ]\n}',
    );
    const t = await parseTemplate(file);
    assertEquals(locate(t, "builders[1].ssh_port"), { line: 4, column: 34 });
    assertEquals(t.file, file);
    assertEquals(t.dir, dir);
    assertEquals(t.format, "json");
    assertEquals(t.digest.length, 64);
  });
});

Deno.test("YAML templates parse to the same structure, with positions", async () => {
  await withTempDir(async (dir) => {
    const yaml = "builders:\n  - type: file\n    target: out\n    port: 22\n";
    const file = await writeFile(dir, "t.yaml", yaml);
    const t = await parseTemplate(file);
    assertEquals(t.format, "yaml");
    assertEquals(t.builders[0].config, { target: "out", port: 22 });
    assertEquals(locate(t, "builders[0].port"), { line: 4, column: 11 });
    const [bad] = await issues(dir, "builders:\n  - type: [unclosed\n", "bad.yml");
    assert(bad.message.startsWith("error parsing YAML"));
    assert(bad.line !== undefined);
  });
});

Deno.test("all root keys, comments, builder names, provisioner common keys and pp forms", async () => {
  await withTempDir(async (dir) => {
    const file = await writeFile(dir, "t.json", {
      _comment: "root comments are fine",
      description: "d",
      min_packer_version: "1.5.0",
      variables: { a: "x", req: null },
      "sensitive-variables": ["a"],
      builders: [{ type: "null", communicator: "none" }, { type: "null", name: "two", x: 1 }],
      provisioners: [{
        type: "shell-local",
        inline: ["x"],
        only: ["two"],
        override: { two: { inline: ["y"] } },
        pause_before: "1m",
        max_retries: "3",
        timeout: 2_000_000_000,
      }],
      "error-cleanup-provisioner": { type: "shell-local", inline: ["z"] },
      "post-processors": ["compress", { type: "checksum", name: "c", keep_input_artifact: true }, [
        "compress",
        { type: "manifest", except: ["null"] },
      ]],
    });
    const t = await parseTemplate(file);
    assertEquals(t.description, "d");
    assertEquals(t.minPackerVersion, "1.5.0");
    assertEquals(t.variables, {
      a: { default: "x", sensitive: true },
      req: { default: null, sensitive: false },
    });
    assertEquals(t.builders.map((b) => [b.name, b.type, b.path]), [
      ["null", "null", "builders[0]"],
      ["two", "null", "builders[1]"],
    ]);
    assertEquals(t.builders[1].config, { x: 1 });
    const p = t.provisioners[0];
    assertEquals(p.config, { inline: ["x"] });
    assertEquals([p.only, p.override, p.pauseBefore, p.maxRetries, p.timeout], [
      ["two"],
      { two: { inline: ["y"] } },
      60_000,
      3,
      2000,
    ]);
    assertEquals(t.errorCleanupProvisioner?.path, "error-cleanup-provisioner");
    assertEquals(t.postProcessors.map((c) => c.map((pp) => [pp.type, pp.name, pp.path])), [
      [["compress", undefined, "post-processors[0]"]],
      [["checksum", "c", "post-processors[1]"]],
      [["compress", undefined, "post-processors[2][0]"], [
        "manifest",
        undefined,
        "post-processors[2][1]",
      ]],
    ]);
    assertEquals(t.postProcessors[1][0].keepInputArtifact, true);
    assertEquals(t.postProcessors[2][1].except, ["null"]);
  });
});

Deno.test("structural errors are all reported, each with its path", async () => {
  await withTempDir(async (dir) => {
    const found = await issues(dir, {
      bogus: 1,
      _c: 5,
      description: 3,
      variables: { n: 5 },
      builders: [{ type: "null" }, { type: "null" }, { name: "no-type" }, "null"],
      provisioners: [{ inline: [] }, { type: "x", pause_before: "5x", max_retries: "z" }],
      "post-processors": [5, [["nested"]], { name: "no-type" }, {
        type: "c",
        keep_input_artifact: "yes",
      }],
    });
    assertEquals(found.map((i) => i.path), [
      "bogus",
      "_c",
      "description",
      "variables.n",
      "builders[1]",
      "builders[2]",
      "builders[3]",
      "provisioners[0]",
      "provisioners[1].pause_before",
      "provisioners[1].max_retries",
      "post-processors[0]",
      "post-processors[1][0]",
      "post-processors[2]",
      "post-processors[3].keep_input_artifact",
    ]);
    assert(found.every((i) => i.line !== undefined && i.file.endsWith("t.json")));
  });
});

Deno.test('a "__proto__" key is an ordinary unknown key, never a prototype', async () => {
  await withTempDir(async (dir) => {
    const found = await issues(
      dir,
      '{"builders": [{"type": "null", "__proto__": {"x": 1}}], "__proto__": 1}',
    );
    assertEquals(found.map((i) => i.path), ["__proto__"]);
    const file = await writeFile(
      dir,
      "p.json",
      '{"builders": [{"type": "null", "__proto__": {"x": 1}}]}',
    );
    const t = await parseTemplate(file);
    assertEquals(Object.keys(t.builders[0].config), ["__proto__"]);
  });
});

Deno.test("an unreadable template is an issue naming the file, not a crash", async () => {
  await withTempDir(async (dir) => {
    const missing = `${dir}/missing.json`;
    try {
      await parseTemplate(missing);
      throw new Error("expected failure");
    } catch (err) {
      assert(err instanceof TemplateError);
      assertEquals(err.issues[0].file, missing);
      assertEquals(err.issues[0].message, "cannot read template: no such file");
    }
  });
});
