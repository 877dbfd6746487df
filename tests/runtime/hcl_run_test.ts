/**
 * An HCL2 configuration (a directory of files, an auto var-file, sensitive
 * variables and locals) through the durable runtime as a user drives it:
 * a build killed mid-way, a resume refused while a file of the
 * configuration differs (naming it) and accepted with --force or once the
 * file is back, replay of the sealed log, cleanup of what the run made;
 * secrets appear in no output and nowhere in the run's directory.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { withTempDir } from "../support/temp_dir.ts";
import { runKiln } from "../support/kiln_cli.ts";
import { filesUnder } from "../support/ledger_honesty.ts";

const SECRET = "s3cr3t-hunter2";
const LOCAL_SECRET = "tok-9f8e7d";

const VARIABLES = `variable "password" {
  type      = string
  sensitive = true
}
variable "release" {
  type    = string
  default = "dev"
}
local "token" {
  expression = "${LOCAL_SECRET}"
  sensitive  = true
}
`;

const BUILD = `source "file" "disk" {
  content = "release \${var.release}\\n"
  target  = "out/disk-\${var.release}.img"
}
build {
  sources = ["source.file.disk"]
  provisioner "shell-local" {
    inline = ["echo pw=\${var.password} tok=\${local.token}"]
  }
  post-processor "checksum" {
    checksum_types = ["sha256"]
    output         = "out/{{.BuildName}}.sum"
  }
}
`;

async function lab(dir: string) {
  const config = join(dir, "config");
  await Deno.mkdir(config);
  await Deno.writeTextFile(join(config, "variables.pkr.hcl"), VARIABLES);
  await Deno.writeTextFile(join(config, "build.pkr.hcl"), BUILD);
  await Deno.writeTextFile(
    join(config, "site.auto.pkrvars.hcl"),
    `password = "${SECRET}"\nrelease  = "1.2"\n`,
  );
  const home = join(dir, ".kiln");
  const kiln = (args: string[], env: Record<string, string> = {}) =>
    runKiln(args, { cwd: dir, home, env });
  return { config, home, kiln };
}

function runIdOf(stderr: string): string {
  const id = stderr.match(/\bkiln: run (\d{8}T\d{6}Z-[0-9a-f]+)/)?.[1];
  if (!id) throw new Error(`no run id announced: ${stderr}`);
  return id;
}

/** Every file of the run's directory that holds `text`. */
async function holding(root: string, text: string): Promise<string[]> {
  const found: string[] = [];
  for (const path of await filesUnder([root])) {
    const bytes = await Deno.readFile(path).catch(() => new Uint8Array());
    if (new TextDecoder().decode(bytes).includes(text)) found.push(path);
  }
  return found;
}

Deno.test("an HCL2 run killed mid-build resumes only from the same files and replays", async () => {
  await withTempDir(async (dir) => {
    const { config, home, kiln } = await lab(dir);
    // Killed right after the provisioner finished: the image exists, the checksum does not.
    const killed = await kiln(["build", "config"], { KILN_CRASH_AFTER: "ProvisionerSucceeded" });
    assert.equal(killed.signal, "SIGKILL", killed.stdout + killed.stderr);
    const runId = runIdOf(killed.stderr);
    assert.match(killed.stdout, /pw=<sensitive> tok=<sensitive>/);
    assert.equal(await Deno.readTextFile(join(dir, "out/disk-1.2.img")), "release 1.2\n");

    // The run recorded each file of the configuration.
    const events = await Deno.readTextFile(join(home, "runs", runId, "events.jsonl"));
    const started = JSON.parse(events.split("\n")[0]).data;
    assert.deepEqual(Object.keys(started.files).sort(), [
      "config/build.pkr.hcl",
      "config/site.auto.pkrvars.hcl",
      "config/variables.pkr.hcl",
    ]);

    // A changed auto var-file: refused, and the file is named.
    const auto = join(config, "site.auto.pkrvars.hcl");
    const original = await Deno.readTextFile(auto);
    await Deno.writeTextFile(auto, original.replace("1.2", "1.3"));
    const refused = await kiln(["build", "--resume", runId]);
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.stdout + refused.stderr,
      /the file config\/site\.auto\.pkrvars\.hcl and the variables changed since; pass --force/,
    );
    assert.ok(!(await filesUnder([join(dir, "out")])).has(join(dir, "out/disk.sum")));

    // The file back as it was: the resume finishes the build where it stopped.
    await Deno.writeTextFile(auto, original);
    const resumed = await kiln(["build", "--resume", runId]);
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    assert.doesNotMatch(resumed.stdout, /pw=/, "the finished provisioner does not run again");
    const sum = await Deno.readTextFile(join(dir, "out/disk.sum"));
    assert.match(sum, /^[0-9a-f]{64}\s/);

    const replay = await kiln(["replay", runId]);
    assert.equal(replay.code, 0, replay.stderr);
    assert.match(replay.stdout + replay.stderr, /sealed log verified/);
    assert.match(replay.stdout, /pw=<sensitive> tok=<sensitive>/);

    for (const out of [killed, refused, resumed, replay]) {
      for (const secret of [SECRET, LOCAL_SECRET]) {
        assert.ok(!(out.stdout + out.stderr).includes(secret), `${secret} printed`);
      }
    }
    for (const secret of [SECRET, LOCAL_SECRET]) {
      assert.deepEqual(await holding(join(home, "runs", runId), secret), [], `${secret} stored`);
    }
  });
});

Deno.test("a failed HCL2 run: cleanup removes what it made; an edited file resumes only with --force", async () => {
  await withTempDir(async (dir) => {
    const { config, kiln } = await lab(dir);
    const build = join(config, "build.pkr.hcl");
    await Deno.writeTextFile(build, BUILD.replace('inline = ["echo', 'inline = ["exit 3; echo'));
    const failed = await kiln(["build", "-on-error=abort", "config"]);
    assert.equal(failed.code, 1, failed.stdout);
    assert.ok(await Deno.stat(join(dir, "out/disk-1.2.img")), "kept by -on-error=abort");
    const clean = await kiln(["cleanup", runIdOf(failed.stderr)]);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.deepEqual([...await filesUnder([join(dir, "out")])], []);

    const again = await kiln(["build", "-on-error=abort", "config"]);
    assert.equal(again.code, 1, again.stdout);
    const runId = runIdOf(again.stderr);
    await Deno.writeTextFile(build, BUILD);
    const refused = await kiln(["build", "--resume", runId]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stdout + refused.stderr, /the file config\/build\.pkr\.hcl changed since/);
    const forced = await kiln(["build", "--resume", runId, "--force"]);
    assert.equal(forced.code, 0, forced.stdout + forced.stderr);
    assert.match(forced.stdout, /pw=<sensitive>/);
    assert.ok(await Deno.stat(join(dir, "out/disk.sum")));
  });
});
