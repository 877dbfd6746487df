/**
 * HCL's JSON syntax (`*.pkr.json`): a configuration written in JSON builds
 * exactly what its native-syntax twin builds, the two syntaxes mix in one
 * directory, and every problem points at the line and column of the JSON
 * file, inside a string when the problem is in a template.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { loadHclConfig } from "../../../template/prepare.ts";
import { kilnRegistry } from "../../../registry.ts";
import { TemplateError, type TemplateIssue } from "../../../template/types.ts";
import { resultLines } from "./oracle.ts";

const CLI = fileURLToPath(new URL("../../../cli.ts", import.meta.url));

async function withDir<T>(files: Record<string, string>, f: (dir: string) => Promise<T>) {
  const dir = await Deno.makeTempDir({ prefix: "kiln-pkrjson-" });
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    return await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** `kiln build .` in a directory holding `files`: exit code, RESULT lines, stderr. */
function build(files: Record<string, string>) {
  return withDir(files, async (dir) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, "build", "-parallel-builds=1", "."],
      cwd: dir,
      env: { KILN_SEAL_DIR: `${dir}/.seals`, NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return {
      code: out.code,
      lines: resultLines(dec.decode(out.stdout)),
      stderr: dec.decode(out.stderr),
    };
  });
}

/** The issues loading a configuration directory reports (none: the test fails). */
function issues(files: Record<string, string>): Promise<TemplateIssue[]> {
  return withDir(files, async (dir) => {
    try {
      await loadHclConfig(dir, {}, kilnRegistry);
    } catch (err) {
      if (err instanceof TemplateError) return err.issues;
      throw err;
    }
    assert.fail("the configuration loaded without a problem");
  });
}

const NATIVE = `
variable "names" {
  type    = list(string)
  default = ["ann", "bob"]
}
variable "greeting" {
  default = "hello"
}
locals {
  joined = join("+", var.names)
  count  = length(var.names)
}
source "null" "one" {
  communicator = "none"
}
source "null" "two" {
  communicator = "none"
}
build {
  sources = ["source.null.one", "source.null.two"]
  provisioner "shell-local" {
    inline = ["printf '%s\\\\n' 'RESULT \${source.name}: \${var.greeting} \${local.joined} n=\${local.count + 1} A $\${HOME}'"]
  }
  provisioner "shell-local" {
    only   = ["null.two"]
    inline = ["printf '%s\\\\n' 'RESULT only two: \${upper(var.greeting)}'"]
  }
  post-processors {
    post-processor "shell-local" {
      inline = ["printf '%s\\\\n' 'RESULT pp1 \${source.name}'"]
    }
    post-processor "shell-local" {
      inline = ["printf '%s\\\\n' 'RESULT pp2 %{ for n in var.names }[\${n}]%{ endfor }'"]
    }
  }
}
`;

// The same configuration in JSON syntax: labels as nested keys, repeated blocks as arrays,
// a "//" comment, a \\u escape in a template string.
const JSON_CONFIG = JSON.stringify(
  {
    "//": "the twin of config.pkr.hcl",
    variable: {
      names: { type: "list(string)", default: ["ann", "bob"] },
      greeting: { default: "hello" },
    },
    locals: { joined: '${join("+", var.names)}', count: "${length(var.names)}" },
    source: { null: { one: { communicator: "none" }, two: { communicator: "none" } } },
    build: {
      sources: ["source.null.one", "source.null.two"],
      provisioner: [
        {
          "shell-local": {
            inline: [
              "printf '%s\\n' 'RESULT ${source.name}: ${var.greeting} ${local.joined} n=${local.count + 1} A $${HOME}'",
            ],
          },
        },
        {
          "shell-local": {
            only: ["null.two"],
            inline: ["printf '%s\\n' 'RESULT only two: ${upper(var.greeting)}'"],
          },
        },
      ],
      "post-processors": [{
        "post-processor": [
          { "shell-local": { inline: ["printf '%s\\n' 'RESULT pp1 ${source.name}'"] } },
          {
            "shell-local": {
              inline: ["printf '%s\\n' 'RESULT pp2 %{ for n in var.names }[${n}]%{ endfor }'"],
            },
          },
        ],
      }],
    },
  },
  null,
  2,
);
// JSON.stringify writes "A" as it is: put one real escape in a template string.
const JSON_WITH_ESCAPE = JSON_CONFIG.replace(" A $${HOME}", () => " \\u0041 $${HOME}");

const EXPECTED = [
  "null.one: RESULT one: hello ann+bob n=3 A ${HOME}",
  "null.one (shell-local): RESULT pp1 one",
  "null.one (shell-local): RESULT pp2 [ann][bob]",
  "null.two: RESULT two: hello ann+bob n=3 A ${HOME}",
  "null.two: RESULT only two: HELLO",
  "null.two (shell-local): RESULT pp1 two",
  "null.two (shell-local): RESULT pp2 [ann][bob]",
];

Deno.test("a .pkr.json configuration builds what its .pkr.hcl twin builds", async () => {
  assert.ok(JSON_WITH_ESCAPE.includes("\\u0041"));
  const native = await build({ "config.pkr.hcl": NATIVE });
  assert.equal(native.code, 0, native.stderr);
  assert.deepEqual(native.lines, EXPECTED);
  const json = await build({ "config.pkr.json": JSON_WITH_ESCAPE });
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(json.lines, EXPECTED);
});

Deno.test("a directory mixes .pkr.hcl and .pkr.json files, and .auto.pkrvars.json", async () => {
  const r = await build({
    "variables.pkr.hcl": 'variable "who" {\n  default = "nobody"\n}\n',
    // The same property twice defines two blocks, as HCL's JSON syntax requires.
    "sources.pkr.json": `{
      "source": { "null": { "a": { "communicator": "none" } } },
      "source": { "null": { "b": { "communicator": "none" } } },
      "locals": { "message": "hi \${var.who}" }
    }`,
    "build.pkr.hcl": `build {
  sources = ["source.null.a", "source.null.b"]
  provisioner "shell-local" {
    inline = ["printf '%s\\\\n' 'RESULT \${source.name} \${local.message}'"]
  }
}
`,
    // Values in a variables file are literal: no template is evaluated there, as in Packer.
    "x.auto.pkrvars.json": '{ "who": "json-\${x}" }',
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.lines, ["null.a: RESULT a hi json-${x}", "null.b: RESULT b hi json-${x}"]);
});

Deno.test("a JSON syntax error in a .pkr.json names its file, line and column", async () => {
  const found = await issues({
    "bad.pkr.json": '{\n  "variable": {\n    "x": { "default": 1, }\n  }\n}\n',
  });
  assert.equal(found.length, 1);
  assert.ok(found[0].file.endsWith("bad.pkr.json"), found[0].file);
  assert.equal(found[0].line, 3);
  assert.equal(found[0].column, 26);
  assert.match(found[0].message, /Invalid JSON: expected a quoted object key/);
});

Deno.test("an error inside a template string points into the JSON string", async () => {
  const text = '{\n  "locals": {\n    "a": "x\\"y ${var.nope}"\n  }\n}\n';
  const found = await issues({ "c.pkr.json": text });
  assert.equal(found.length, 1);
  const i = found[0];
  assert.ok(i.file.endsWith("c.pkr.json"), i.file);
  // Line 3 is `    "a": "x\"y ${var.nope}"`: as in HCL the `.nope` step is marked,
  // at column 21, past the escape.
  assert.equal(i.line, 3);
  assert.equal(i.column, 21);
  assert.equal(text.split("\n")[2].slice(20, 25), ".nope");
  assert.match(i.message, /nope/);
  assert.ok(i.snippet?.some((l) => /^ *\^{5}$/.test(l)), JSON.stringify(i.snippet));
});

Deno.test("an unclosed interpolation in a JSON string is a clear error at that string", async () => {
  const found = await issues({
    "c.pkr.json": '{ "locals": { "a": "${var.x" } }',
  });
  assert.equal(found.length, 1);
  assert.equal(found[0].line, 1);
  assert.equal(found[0].column, 20);
  assert.match(found[0].message, /Invalid template.*"\$\{var\.x"/);
});

Deno.test("a variable's type in JSON is an expression in a string; a bad one is located", async () => {
  const found = await issues({
    "v.pkr.json": '{"variable": {"x": {"type": "lisst(string)", "default": []}}}',
  });
  assert.equal(found.length, 1);
  assert.equal(found[0].line, 1);
  assert.equal(found[0].column, 30);
  assert.match(found[0].message, /Invalid type specification.*lisst/);
  // A good type converts the default, as in native syntax.
  const typed = await issues({
    "v.pkr.json": '{"variable": {"x": {"type": "number", "default": "abc"}}}',
  });
  assert.match(typed[0].message, /number/);
});

Deno.test("a legacy JSON template named .pkr.json is refused with what to do", async () => {
  const found = await issues({
    "legacy.pkr.json": '{\n  "builders": [{ "type": "null" }]\n}\n',
  });
  assert.equal(found.length, 1);
  assert.equal(found[0].line, 2);
  assert.equal(found[0].column, 3);
  assert.match(found[0].message, /No argument or block type is named "builders"/);
  assert.match(found[0].message, /legacy JSON template/);
});

Deno.test("a broken .pkrvars.json is located at its line and column", async () => {
  const found = await issues({
    "v.pkr.hcl": 'variable "who" {\n  default = "x"\n}\n',
    "x.auto.pkrvars.json": '{\n  "who": "a"\n  "other": 1\n}\n',
  });
  assert.equal(found.length, 1);
  assert.ok(found[0].file.endsWith("x.auto.pkrvars.json"), found[0].file);
  assert.equal(found[0].line, 3);
  assert.equal(found[0].column, 3);
  assert.match(found[0].message, /Invalid JSON: expected ',' or '}'/);
});

Deno.test("JSON syntax: packer, variables, a build as an array, dynamic provisioners with an iterator", async () => {
  // Packer 1.6.6 prints the same two lines for this file.
  const r = await build({
    "c.pkr.json": JSON.stringify({
      packer: { required_version: ">= 1.6.0" },
      variables: { items: ["p", "q"] },
      source: { null: { a: { communicator: "none" } } },
      build: [{
        sources: ["source.null.a"],
        dynamic: {
          provisioner: {
            for_each: "${var.items}",
            iterator: "it",
            labels: ["shell-local"],
            content: { inline: ["printf '%s\\n' 'RESULT dyn ${it.key}=${it.value}'"] },
          },
        },
      }],
    }),
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.lines, ["null.a: RESULT dyn 0=p", "null.a: RESULT dyn 1=q"]);
});
