/**
 * Preparing an HCL2 configuration for a build: options take HCL's types
 * (cty's conversions, not the JSON decoder's weak ones), every problem of
 * the configuration is reported at once with the file, line, column and
 * the source line marked, and what a sensitive value becomes is masked.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { prepareTemplate } from "../../../template/prepare.ts";
import { formatIssue, TemplateError, type TemplateIssue } from "../../../template/types.ts";
import { kilnRegistry } from "../../../registry.ts";
import { withTempDir } from "../../support/temp_dir.ts";

async function prepareFiles(files: Record<string, string>, dir: string) {
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(join(dir, name), text);
  }
  return await prepareTemplate(dir, {}, { registry: kilnRegistry });
}

async function issuesOf(files: Record<string, string>): Promise<TemplateIssue[]> {
  return await withTempDir(async (dir) => {
    try {
      await prepareFiles(files, dir);
    } catch (err) {
      if (err instanceof TemplateError) return err.issues;
      throw err;
    }
    return assert.fail("the configuration was accepted");
  });
}

const NULL_SOURCE = `source "null" "a" {
  communicator = "none"
}
`;

Deno.test("HCL2 options take HCL's types: a string is not a list, a list not a string", async () => {
  const found = await issuesOf({
    "a.pkr.hcl": NULL_SOURCE + `build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline           = "echo one"
    environment_vars = ["A=1", ["nested"]]
    command          = ["echo"]
  }
  post-processor "checksum" {
    checksum_types = "sha256"
  }
}
`,
  });
  const lines = found.map((i) =>
    `${i.line}:${i.column} ${i.message.slice(i.message.indexOf("Inappropriate"))}`
  );
  assert.deepEqual(lines, [
    '7:24 Inappropriate value for attribute "inline": list of string required.',
    '8:24 Inappropriate value for attribute "environment_vars": list of string required.',
    '9:24 Inappropriate value for attribute "command": string required.',
    '12:22 Inappropriate value for attribute "checksum_types": list of string required.',
  ]);
  assert.ok(found.every((i) => i.message.includes("Incorrect attribute value type")));
  // Reported once each: the looser decoding behind it says nothing more.
  assert.equal(found.length, 4);
});

Deno.test("HCL2 converts as cty does: numbers and bools to strings, numeric strings to numbers", async () => {
  await withTempDir(async (dir) => {
    const prepared = await prepareFiles({
      "a.pkr.hcl": NULL_SOURCE + `build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline           = [1, true, "x"]
    environment_vars = ["N=\${2 + 3}"]
  }
  post-processor "compress" {
    compression_level = "7"
    output            = "out.tar.gz"
  }
}
`,
    }, dir);
    const [build] = prepared.builds;
    assert.deepEqual(build.provisioners[0].config.inline, ["1", "true", "x"]);
    assert.deepEqual(build.provisioners[0].config.environment_vars, ["N=5"]);
    assert.equal(build.postProcessors[0][0].config.compression_level, 7);
  });
});

Deno.test("every problem of a phase at once, each with its file, line, column and marked span", async () => {
  const locals = {
    "b.pkr.hcl": `locals {
  x = upper(1, 2)
  y = var.nope
  z = local.nothing
}
`,
    "c.pkr.hcl": `locals {
  w = abs("x")
}
`,
  };
  const found = await issuesOf(locals);
  const text = found.map((i) => formatIssue(i)).join("\n");
  assert.equal(found.length, 4, text);
  assert.match(text, /b\.pkr\.hcl:2:7: Too many function arguments/);
  assert.match(
    text,
    /b\.pkr\.hcl:3:10: Unsupported attribute: This object does not have an attribute named "nope"/,
  );
  assert.match(
    text,
    /b\.pkr\.hcl:4:12: Unsupported attribute: There is no local value named "nothing"/,
  );
  assert.match(
    text,
    /c\.pkr\.hcl:2:11: Invalid function argument: Invalid value for "num" parameter: a number is required\.\n/,
  );
  // The offending line follows, the span marked under it.
  assert.match(text, /\n {2}3: {3}y = var\.nope\n {14}\^{5}\n/);
  assert.doesNotMatch(text, /\bat .*\.ts:\d+/, "no stack trace");

  // Builds are read once the locals are sound; their problems come together too.
  const builds = await issuesOf({
    "a.pkr.hcl": NULL_SOURCE + `build {
  sources = ["source.null.a", "source.null.missing"]
  provisioner "shell-local" {
    inline = ["\${upper()}"]
  }
}
`,
  });
  assert.equal(builds.length, 2, builds.map((i) => formatIssue(i)).join("\n"));
});

Deno.test("a sensitive variable's value is masked in a diagnostic that quotes it", async () => {
  const found = await issuesOf({
    "a.pkr.hcl": `variable "pw" {
  default   = "hunter2-pw"
  sensitive = true
}
` + NULL_SOURCE + `build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["\${tonumber(var.pw)}"]
  }
}
`,
  });
  const text = found.map((i) => formatIssue(i)).join("\n");
  assert.ok(found.length >= 1);
  assert.doesNotMatch(text, /hunter2-pw/);
});

Deno.test("-syntax-only parses and checks the blocks, evaluating nothing (as Packer)", async () => {
  await withTempDir(async (dir) => {
    const write = (text: string) => Deno.writeTextFile(join(dir, "a.pkr.hcl"), text);
    const check = () => prepareTemplate(dir, {}, { registry: kilnRegistry, syntaxOnly: true });
    // An unset variable and a missing source are for a full validate.
    await write(`variable "x" {}
source "null" "a" { communicator = var.nope }
build { sources = ["source.null.zzz"] }
`);
    await check();
    await write(`foo "bar" {}\nsource "null" "a" {\n  x =\n}\n`);
    await assert.rejects(check(), (err: unknown) => {
      assert.ok(err instanceof TemplateError);
      assert.match(err.issues.map(formatIssue).join("\n"), /a\.pkr\.hcl:3:6: Invalid expression/);
      return true;
    });
    await write(`foo "bar" {}\n`);
    await assert.rejects(check(), /Unsupported block type/);
  });
});

Deno.test("unknown component types come with the configuration's other problems, each said once", async () => {
  const found = await issuesOf({
    "a.pkr.hcl": `source "nullx" "a" {
  communicator = "none"
}
source "null" "b" {
  communicator = "none"
}
build {
  sources = ["source.nullx.a", "source.null.b"]
  provisioner "nope" {}
  post-processor "zap" {}
  provisioner "shell-local" { inline = ["\${upper()}"] }
}
`,
  });
  const shown = found.map((i) => `${i.line}:${i.column} ${i.message.split(":")[0]}`);
  assert.deepEqual(shown, [
    "1:8 Unknown builder type",
    "9:15 Unknown provisioner type",
    "10:18 Unknown post-processor type",
    "11:44 Not enough function arguments",
  ]);
  assert.match(found[1].message, /kiln knows: shell-local, /);
});
