/**
 * A key written twice in one object: Packer 1.6.6 refuses the template
 * ("template has duplicate field: X") wherever the object is; kiln refuses it
 * too, naming the file, the JSON path and both places. A var-file keeps the
 * last value, as Packer's does.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { withTempDir, writeFile } from "./helpers.ts";
import { issueAt, prepareIssues } from "./issues.ts";
import { prepareTemplate } from "../../template/prepare.ts";
import { parseJsonSource } from "../../template/source.ts";
import { kilnRegistry } from "../../registry.ts";

const NULL = '{"type": "null", "communicator": "none"}';

Deno.test("a duplicate key is refused at the root and inside builders, provisioners, variables and nested objects", async () => {
  await withTempDir(async (dir) => {
    const cases: [string, string, string][] = [
      ["root", `{"builders": [${NULL}],\n  "builders": [${NULL}]\n}`, "builders"],
      ["variables", `{"variables": {"a": "1",\n "a": "2"}, "builders": [${NULL}]}`, "variables.a"],
      [
        "builder option",
        '{"builders": [{"type": "null", "communicator": "none",\n "communicator": "none"}]}',
        "builders[0].communicator",
      ],
      ["builder type", '{"builders": [{"type": "null",\n "type": "null"}]}', "builders[0].type"],
      [
        "provisioner option",
        `{"builders": [${NULL}], "provisioners": [{"type": "shell-local",\n` +
        `"inline": ["echo a"], "inline": ["echo b"]}]}`,
        "provisioners[0].inline",
      ],
      [
        "post-processor option",
        `{"builders": [${NULL}], "post-processors": [{"type": "manifest",\n` +
        `"output": "a.json", "output": "b.json"}]}`,
        "post-processors[0].output",
      ],
      [
        "nested map",
        `{"builders": [${NULL}], "provisioners": [{"type": "shell-local", "inline": ["x"],\n` +
        `"env": {"A": "1", "A": "2"}}]}`,
        "provisioners[0].env.A",
      ],
      [
        "override by build name",
        `{"builders": [${NULL}], "provisioners": [{"type": "shell-local", "inline": ["x"],\n` +
        `"override": {"null": {"inline": ["y"]}, "null": {"inline": ["z"]}}}]}`,
        "provisioners[0].override.null",
      ],
      ["comment", `{"_c": "a",\n "_c": "b", "builders": [${NULL}]}`, "_c"],
      ["escaped spelling", `{"builders": [${NULL}],\n "b\\u0075ilders": []}`, "builders"],
      ["__proto__", `{"builders": [${NULL}], "__proto__": 1,\n "__proto__": 2}`, "__proto__"],
    ];
    for (const [what, text, path] of cases) {
      const { file, issues } = await prepareIssues(dir, "t.json", text);
      const issue = issueAt(issues, path);
      assertEquals(issue.file, file, what);
      assertEquals(issue.line, 2, `${what}: the line of the second key`);
      assertMatch(issue.message, /^duplicate key ".*" \(another value for it is at line \d+/, what);
      assertMatch(issue.message, /Packer: "template has duplicate field: /, what);
      // Packer stops at the duplicate: nothing else is reported with it.
      assertEquals(issues.length, 1, `${what}: ${issues.map((i) => i.message).join("; ")}`);
    }
  });
});

Deno.test("every duplicate key in a template is listed, each at its own line and column", async () => {
  await withTempDir(async (dir) => {
    const { issues } = await prepareIssues(
      dir,
      "t.json",
      '{"variables": {"a": "1", "a": "2",\n  "b": "1", "b": "3"},\n' +
        ' "builders": [{"type": "null", "communicator": "none", "communicator": "ssh"}]}',
    );
    assertEquals(
      issues.map((i) => [i.path, i.line, i.column]),
      [["variables.a", 1, 26], ["variables.b", 2, 13], ["builders[0].communicator", 3, 56]],
    );
    assertMatch(
      issueAt(issues, "variables.a").message,
      /another value for it is at line 1, column 21/,
    );
  });
});

Deno.test("a YAML template with a duplicate key is refused the same way", async () => {
  await withTempDir(async (dir) => {
    const { file, issues } = await prepareIssues(
      dir,
      "t.yaml",
      'builders:\n  - type: "null"\n    communicator: none\n    communicator: none\n' +
        "variables:\n  a: x\n  a: y\n",
    );
    const option = issueAt(issues, "builders[0].communicator");
    assertEquals([option.file, option.line, option.column], [file, 4, 5]);
    assertMatch(option.message, /duplicate key "communicator" \(another value for it is at line 3/);
    assertEquals(issueAt(issues, "variables.a").line, 7);
    // Keys YAML spells differently but JSON cannot tell apart collide too.
    const spelled = await prepareIssues(
      dir,
      "s.yaml",
      'builders:\n  - type: "null"\n    communicator: none\n"builders": []\n',
    );
    assertEquals(issueAt(spelled.issues, "builders").line, 4);
  });
});

Deno.test("a var-file with a duplicate key is accepted and the last value wins, as in Packer", async () => {
  await withTempDir(async (dir) => {
    const template = await writeFile(dir, "t.json", {
      variables: { a: null },
      builders: [{ type: "file", target: "out.txt", content: "{{user `a`}}" }],
    });
    for (
      const [name, text] of [["v.json", '{"a": "first", "a": "last"}'], [
        "v.yaml",
        "a: first\na: last\n",
      ]]
    ) {
      const vars = await writeFile(dir, name, text);
      const prepared = await prepareTemplate(template, { vars: [{ kind: "file", path: vars }] }, {
        registry: kilnRegistry,
      });
      assertEquals(prepared.builds[0].config.content, "last", name);
    }
  });
});

Deno.test("the scanner keeps the last duplicate's value and reports the duplicate as a problem", () => {
  const doc = parseJsonSource('{"a": 1, "a": {"b": 2, "b": 3}}');
  assertEquals(doc.value, { a: { b: 3 } });
  assertEquals(doc.problems.map((p) => [p.kind, p.path]), [
    ["duplicate-key", "a"],
    ["duplicate-key", "a.b"],
  ]);
  assert(parseJsonSource('{"a": {"x": 1}, "b": {"x": 1}}').problems.length === 0);
});
