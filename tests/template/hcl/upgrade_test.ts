/**
 * hcl2_upgrade: the string translation rules, the output's layout against
 * recorded Packer 1.6.6 output, and Packer 1.6.6 accepting the upgrade of
 * every template of the corpus kiln parses.
 */
import assert from "node:assert/strict";
import { newUse, translateString } from "../../../template/hcl/upgrade_strings.ts";
import { goDuration } from "../../../template/hcl/upgrade.ts";
import { run } from "../../../cli/hcl2_upgrade.ts";
import {
  corpusTemplates,
  havePacker,
  packerSyntaxErrors,
  upgradeToFile,
} from "./upgrade_helpers.ts";

const FIXTURES = new URL("../../fixtures/hcl/upgrade/", import.meta.url).pathname;

function build(s: string, locals: string[] = []) {
  const use = newUse();
  const out = translateString(s, { where: "build", locals: new Set(locals) }, use);
  return { out, use };
}

Deno.test("upgrade strings: Packer's calls become HCL2 interpolations", () => {
  assert.equal(build("{{user `a`}}-{{ user `b` }}").out, "${var.a}-${var.b}");
  assert.equal(build("{{user `a`}}", ["a"]).out, "${local.a}");
  assert.equal(build("{{timestamp}}").out, "${local.timestamp}");
  assert.equal(build("{{timestamp}}").use.timestamp, true);
  assert.equal(build("{{uuid}}").out, "${uuidv4()}");
  // {{template_dir}} is absolute; path.root is the directory as given (often ".").
  assert.equal(build("{{template_dir}}/x").out, "${abspath(path.root)}/x");
  assert.equal(build("{{pwd}}").out, "${path.cwd}");
  assert.equal(build("{{packer_version}}").out, "${packer.version}");
  assert.equal(build('{{isotime "2006"}}').out, '${legacy_isotime("2006")}');
  assert.equal(build("{{isotime}}").out, "${timestamp()}");
  assert.equal(build("{{build_name}}/{{build_type}}").out, "${source.name}/${source.type}");
  assert.equal(build("{{build `ID`}}").out, "${build.ID}");
});

Deno.test("upgrade strings: build-time fields stay Go templates; others are noted", () => {
  const r = build("{{ .HTTPIP }}:{{.HTTPPort}}");
  assert.equal(r.out, "{{ .HTTPIP }}:{{ .HTTPPort }}");
  assert.deepEqual(r.use.notes, []);
  const up = build("{{upper `x`}}");
  assert.equal(up.out, "{{ upper `x` }}");
  assert.equal(up.use.notes.length, 1);
  // env is only for variable defaults in HCL2.
  assert.equal(build("{{env `HOME`}}").out, "{{ env `HOME` }}");
  const v = newUse();
  assert.equal(
    translateString("{{env `HOME`}}", { where: "variable", locals: new Set() }, v),
    '${env("HOME")}',
  );
  assert.equal(v.needsLocal, false);
  translateString("{{timestamp}}", { where: "variable", locals: new Set() }, v);
  assert.equal(v.needsLocal, true);
  // In a source block, build_name is the builder's own name.
  assert.equal(
    translateString("{{build_name}}", {
      where: "source",
      locals: new Set(),
      buildName: "web",
      buildType: "null",
    }, newUse()),
    "web",
  );
  const broken = build("{{if true}}x{{end}}");
  assert.equal(broken.out, "{{if true}}x{{end}}");
  assert.equal(broken.use.notes.length, 1);
});

Deno.test("upgrade strings: HCL escaping", () => {
  assert.equal(build('a "b" \\ c\nd\te').out, 'a \\"b\\" \\\\ c\\nd\\te');
  assert.equal(build("${x} %{y} $${z}").out, "$${x} %%{y} $$${z}");
  // A "$" right before an interpolation must not turn it into the $${ escape.
  assert.equal(build("$${{user `a`}}").out, '${"$$"}${var.a}');
  assert.equal(build("x${{user `a`}}").out, 'x${"$"}${var.a}');
  assert.equal(build("\u0001").out, "\\u0001");
});

Deno.test("upgrade: durations are written as Go prints them", () => {
  assert.equal(goDuration(90_000), "1m30s");
  assert.equal(goDuration(300_000), "5m0s");
  assert.equal(goDuration(3_600_000), "1h0m0s");
  assert.equal(goDuration(1500), "1.5s");
  assert.equal(goDuration(500), "500ms");
  assert.equal(goDuration(0), "0s");
});

/** Packer's output without its comments, blank lines and the 1.6.6 always-present timestamp local. */
function comparable(hcl: string, usesTimestamp: boolean): string[] {
  return hcl.split("\n").filter((l) =>
    l.trim() !== "" && !l.trim().startsWith("#") &&
    (usesTimestamp || !l.startsWith("locals { timestamp"))
  );
}

for (const name of ["variables", "description", "manifest", "compress"]) {
  Deno.test(`upgrade: ${name}.json lays out as Packer 1.6.6's hcl2_upgrade`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const out = `${dir}/${name}.pkr.hcl`;
      const result = await upgradeToFile(`${FIXTURES}${name}.json`, out);
      const packer = await Deno.readTextFile(`${FIXTURES}${name}.packer-1.6.6.pkr.hcl`);
      const uses = result.hcl.includes("local.timestamp");
      assert.deepEqual(comparable(result.hcl, uses), comparable(packer, uses));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("upgrade: what 1.6.6 drops or misnames is carried over", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const src = `${dir}/t.json`;
    await Deno.writeTextFile(
      src,
      JSON.stringify({
        builders: [{ type: "null", communicator: "none" }, {
          type: "null",
          name: "b",
          communicator: "none",
        }],
        provisioners: [{
          type: "shell-local",
          inline: ["echo"],
          only: ["null"],
          pause_before: "10s",
          override: { b: { inline: ["echo b"] } },
        }],
        "error-cleanup-provisioner": { type: "shell-local", inline: ["echo cleanup"] },
        "post-processors": [{ type: "manifest", name: "m", except: ["b"] }],
      }),
    );
    const { hcl } = await upgradeToFile(src, `${dir}/t.pkr.hcl`);
    assert.match(hcl, /only += \["null\.null"\]/);
    assert.match(hcl, /pause_before = "10s"/);
    assert.match(hcl, /override = \{\n\s+b = \{\n\s+inline = \["echo b"\]/);
    assert.match(hcl, /error-cleanup-provisioner "shell-local" \{\n\s+inline = \["echo cleanup"\]/);
    assert.match(hcl, /except = \["null\.b"\]/);
    assert.match(hcl, /name += "m"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("upgrade: schema decides blocks: block device mappings repeat, tags stay a map", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const src = `${dir}/t.json`;
    await Deno.writeTextFile(
      src,
      JSON.stringify({
        builders: [{
          type: "amazon-instance",
          tags: { Name: "x" },
          launch_block_device_mappings: [{ device_name: "/dev/sda1" }, { device_name: "/dev/sdb" }],
        }],
      }),
    );
    const { hcl } = await upgradeToFile(src, `${dir}/t.pkr.hcl`);
    assert.equal(hcl.match(/launch_block_device_mappings \{/g)?.length, 2);
    assert.match(hcl, /tags = \{\n\s+Name = "x"\n\s+\}/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("kiln hcl2_upgrade: -help exits 0; errors name the file; default output name", async () => {
  const lines: string[] = [];
  const write = (text: string) => void lines.push(text);
  assert.equal(await run(["-help"], { write }), 0);
  assert.match(lines.join(""), /-output-file/);
  lines.length = 0;
  assert.equal(await run(["/nonexistent/t.json"], { write }), 1);
  assert.match(lines.join(""), /\/nonexistent\/t\.json.*cannot read template: no such file/);
  lines.length = 0;
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/t.yaml`,
      "builders:\n  - type: 'null'\n    communicator: none\n",
    );
    assert.equal(await run([`${dir}/t.yaml`], { write }), 0);
    const hcl = await Deno.readTextFile(`${dir}/t.yaml.pkr.hcl`);
    assert.match(hcl, /source "null" "null" \{\n {2}communicator = "none"\n\}/);
    assert.equal(
      await run([`-output-file=${dir}/new/dir/x.pkr.hcl`, `${dir}/t.yaml`], { write }),
      0,
    );
    assert.equal(await Deno.readTextFile(`${dir}/new/dir/x.pkr.hcl`), hcl);
    // A directory in the way: the error names the output file.
    assert.equal(await run([`-output-file=${dir}/new`, `${dir}/t.yaml`], { write }), 1);
    assert.match(lines.join(""), /\/new: cannot write/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "upgrade: Packer 1.6.6 accepts the upgrade of every corpus template kiln parses",
  ignore: !(await havePacker()),
  async fn() {
    const dir = await Deno.makeTempDir();
    const failures: string[] = [];
    // Identical output needs one check; Packer runs four at a time (it mostly waits).
    const pending = new Map<string, { out: string; file: string }>();
    let upgraded = 0;
    try {
      for (const file of await corpusTemplates()) {
        const out = `${dir}/${upgraded}.pkr.hcl`;
        let hcl;
        try {
          hcl = (await upgradeToFile(file, out)).hcl;
        } catch {
          continue; // kiln's JSON front end refuses it: nothing to upgrade.
        }
        upgraded++;
        // 1.6.6 lacks `local` blocks (sensitive locals) and refuses a newer or malformed
        // required_version.
        if (/^local "/m.test(hcl)) continue;
        if (/required_version = ">= (1\.([7-9]|\d\d)|[2-9]|[^0-9])/.test(hcl)) continue;
        if (!pending.has(hcl)) pending.set(hcl, { out, file });
      }
      const queue = [...pending.values()];
      await Promise.all([0, 1, 2, 3].map(async () => {
        for (let job = queue.shift(); job; job = queue.shift()) {
          const err = await packerSyntaxErrors(job.out);
          if (err) failures.push(`${job.file}: ${err.split("\n").slice(0, 4).join(" ")}`);
        }
      }));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    assert.ok(upgraded > 200, `only ${upgraded} templates upgraded`);
    assert.ok(pending.size > 100, `only ${pending.size} distinct upgrades checked`);
    assert.deepEqual(failures, []);
  },
});
