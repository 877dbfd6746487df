/** The validate / inspect / version commands, in-process and as real processes. */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { run as validate } from "../../cli/validate.ts";
import { run as inspect } from "../../cli/inspect.ts";
import { escapeMachineField, machineLine, parseMachineLine } from "../../cli/machine_readable.ts";
import { withTempDir, writeFile } from "./helpers.ts";
import { CLI_PATH, runKiln } from "../support/kiln_cli.ts";

async function inProcess(
  command: typeof validate,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await command(args, {
    write: (text, stream) => stream === "stdout" ? (stdout += text) : (stderr += text),
  });
  return { code, stdout, stderr };
}

function kiln(args: string[], cwd: string) {
  return runKiln(args, { cwd });
}

const good = { builders: [{ type: "null", communicator: "none" }] };

Deno.test("validate: a valid template exits 0 and, as Packer 1.6.6, prints nothing", async () => {
  await withTempDir(async (dir) => {
    const file = await writeFile(dir, "ok.json", good);
    assertEquals(await inProcess(validate, [file]), {
      code: 0,
      stdout: "",
      stderr: "",
    });
    assertEquals(
      (await inProcess(validate, ["-syntax-only", file])).stdout,
      "Syntax-only check passed. Everything looks okay.\n",
    );
  });
});

Deno.test("validate: every error is listed with file, position, JSON path and expectation", async () => {
  await withTempDir(async (dir) => {
    const file = await writeFile(dir, "bad.json", {
      builders: [{ type: "null", communicator: "none", ssh_port: "abc" }, { type: "frob" }],
    });
    const r = await inProcess(validate, [file]);
    assertEquals(r.code, 1);
    assertEquals(r.stdout, "");
    const lines = r.stderr.trimEnd().split("\n");
    assertEquals(lines[0], "Template validation failed: 2 errors found:");
    assertEquals(
      lines[1],
      `  * ${file}:6:19: builders[0].ssh_port: expected an integer, got "abc"`,
    );
    assertMatch(lines[2], /bad\.json:9:15: builders\[1\]\.type: unknown builder type "frob"/);
  });
});

Deno.test("validate: -var/-var-file/-only reach the template; bad usage prints usage", async () => {
  await withTempDir(async (dir) => {
    const file = await writeFile(dir, "t.json", {
      variables: { need: null },
      builders: [{ type: "null", name: "a", communicator: "none" }, { type: "frob", name: "b" }],
    });
    const vf = await writeFile(dir, "v.json", { need: "x" });
    assertEquals((await inProcess(validate, ["-var-file", vf, "-only=a", file])).code, 0);
    assertEquals((await inProcess(validate, ["--var", "need=1", "--only", "a", file])).code, 0);
    const missing = await inProcess(validate, ["-only=a", file]);
    assertMatch(missing.stderr, /required variable not set: need/);
    const usage = await inProcess(validate, ["-nope", file]);
    assertEquals(usage.code, 1);
    assertMatch(usage.stderr, /flag provided but not defined: -nope[\s\S]*Usage: kiln validate/);
    assertMatch((await inProcess(validate, [])).stderr, /a template file is required/);
  });
});

Deno.test("machine-readable output escapes commas and newlines like Packer", async () => {
  assertEquals(escapeMachineField("a,b\nc"), "a%!(PACKER_COMMA)b\\nc");
  const line = machineLine("", "ui", ["say", "x,y\nz"], new Date(1_700_000_000_000));
  assertEquals(line, "1700000000,,ui,say,x%!(PACKER_COMMA)y\\nz");
  assertEquals(parseMachineLine(line).data, ["say", "x,y\nz"]);
  await withTempDir(async (dir) => {
    const file = await writeFile(dir, "bad.json", { builders: [], bogus: 1 });
    const r = await inProcess(validate, ["-machine-readable", file]);
    assertEquals(r.code, 1);
    const records = r.stdout.trimEnd().split("\n").map(parseMachineLine);
    assert(records.every((rec) => rec.type === "ui" && rec.data[0] === "error"));
    assertEquals(records[0].data[1], "Template validation failed: 1 error found:");
  });
});

Deno.test("inspect: variables (sensitive masked), builds, provisioners, post-processors", async () => {
  await withTempDir(async (dir) => {
    const file = await writeFile(dir, "t.json", {
      description: "demo, template",
      variables: { secret: "hunter2", region: "eu", needed: null },
      "sensitive-variables": ["secret"],
      builders: [{ type: "null", name: "n", communicator: "none" }, { type: "file", target: "x" }],
      provisioners: [{ type: "shell-local", inline: ["x"] }],
      "post-processors": [["compress", { type: "checksum", name: "sums" }]],
    });
    const r = await inProcess(inspect, [file]);
    assertEquals(r.code, 0);
    assert(!r.stdout.includes("hunter2"));
    assertEquals(
      r.stdout,
      [
        "Packer Inspect: JSON mode",
        "Description:\n",
        "demo, template\n",
        "Required variables:\n",
        "  needed",
        "",
        "Optional variables and their defaults:\n",
        "  region = eu",
        "  secret = <sensitive>",
        "",
        "Builders:\n",
        "  file",
        "  n    (null)",
        "",
        "Provisioners:\n",
        "  shell-local",
        "",
        "Post-processors:\n",
        "  compress -> sums (checksum)",
        "\nNote: If your build names contain user variables or template",
        "functions such as 'timestamp', these are processed at build time,",
        "and therefore only show in their raw form here.",
        "",
      ].join("\n"),
    );
    const machine = await inProcess(inspect, ["-machine-readable", file]);
    assert(!machine.stdout.includes("hunter2"));
    const types = machine.stdout.trimEnd().split("\n").map((l) => parseMachineLine(l).type);
    assert(types.includes("template-variable") && types.includes("template-builder"));
    assert(machine.stdout.includes(",template-variable,secret,<sensitive>,0"));
    assert(machine.stdout.includes("demo%!(PACKER_COMMA) template"));
  });
});

Deno.test("as a process: validate - reads the template from stdin, as Packer does", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI_PATH, "validate", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(good)));
  await writer.close();
  const out = await child.output();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  assertEquals(new TextDecoder().decode(out.stdout), "");
});

Deno.test("as a process: bad input exits 1 with a clear message and never a stack trace", async () => {
  await withTempDir(async (dir) => {
    await writeFile(dir, "broken.json", '{"builders": [}');
    for (
      const args of [
        ["validate", "broken.json"],
        ["validate", "missing.json"],
        ["validate", "-var-file=nope.json", "broken.json"],
        ["inspect", "broken.json"],
        ["validate"],
      ]
    ) {
      const r = await kiln(args, dir);
      assertEquals(r.code, 1, args.join(" "));
      assert(
        !/\n\s+at /.test(r.stderr + r.stdout),
        `stack trace for ${args.join(" ")}:\n${r.stderr}`,
      );
    }
    const broken = await kiln(["validate", "broken.json"], dir);
    assertMatch(broken.stderr, /broken\.json:1:15: error parsing JSON/);
    const v = await kiln(["version"], dir);
    assertEquals([v.code, v.stdout], [0, "Kiln v0.1.0 (Packer 1.6.6 compatible)\n"]);
    const vm = await kiln(["version", "-machine-readable"], dir);
    assertMatch(vm.stdout, /^\d+,,version,0\.1\.0$/m);
  });
});
