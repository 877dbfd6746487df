/**
 * `kiln fix` against `packer fix`: on every public template of
 * ../shared/realworld and on the hand-written cases (every fixer, its
 * edges, Go's JSON encoding), kiln prints the same JSON and exits the same
 * way. Packer 1.6.6 is run when it is installed (and must still give the
 * recorded answers); otherwise its recorded answers stand in. Then the
 * user's path: a deprecated key makes `validate` point at `kiln fix`, and
 * the fixed template validates.
 */
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { run } from "../../cli/fix.ts";
import {
  fixedJson,
  havePacker,
  type PackerFix,
  recordedFix,
  runPackerFix,
  templatesOf,
} from "../fixtures/fix/record.ts";
import { runKiln } from "../support/kiln_cli.ts";
import { parseMachineLine } from "../../cli/machine_readable.ts";
import { withTempDir } from "../support/temp_dir.ts";

/** Where kiln differs from `packer fix` on purpose, and what it says instead. */
const KNOWN_DIFFERENCES: Record<string, RegExp> = {
  // Duplicate keys are refused (a trust rule); packer fix keeps the last value.
  "boxcutter__ubuntu__ami.json": /builders\[0\]\.ssh_username: duplicate key "ssh_username"/,
};

async function kilnFix(file: string, args: string[] = []) {
  let stdout = "";
  let stderr = "";
  const code = await run([...args, file], {
    write: (text, stream) => stream === "stdout" ? stdout += text : stderr += text,
  });
  return { code, stdout, stderr };
}

const live = await havePacker();

for (const set of ["cases", "realworld"] as const) {
  Deno.test(`kiln fix prints what packer fix prints: ${set}${live ? " (live packer)" : ""}`, async () => {
    const files = templatesOf(set);
    assert.ok(files.length >= (set === "cases" ? 13 : 110), `${files.length} templates`);
    const mismatches: string[] = [];
    let same = 0;
    for (const file of files) {
      const recorded = recordedFix(set, file);
      let packer: PackerFix = recorded;
      if (live) {
        packer = await runPackerFix(file);
        assert.deepEqual(packer, recorded, `${basename(file)}: packer's answer changed; re-record`);
      }
      const kiln = await kilnFix(file);
      const known = KNOWN_DIFFERENCES[basename(file)];
      if (known) {
        assert.equal(kiln.code, 1);
        assert.match(kiln.stderr, known);
        continue;
      }
      // Packer's fixers crash (exit 2) on some inputs; kiln refuses them (exit 1).
      const agree = packer.exit === 2
        ? kiln.code === 1
        : kiln.code === packer.exit && kiln.stdout === fixedJson(packer.stdout);
      if (agree) same++;
      else {
        mismatches.push(
          `${basename(file)}: kiln exit ${kiln.code}, packer exit ${packer.exit}\n` +
            `kiln stdout:\n${kiln.stdout.slice(0, 400)}\nkiln stderr: ${kiln.stderr}\n` +
            `packer:\n${packer.stdout.slice(0, 400)}`,
        );
      }
    }
    assert.deepEqual(mismatches, []);
    console.log(`kiln fix = packer fix on ${same} of ${files.length} ${set} templates`);
  });
}

Deno.test("kiln fix: errors name the file and JSON path; -validate=false keeps the output", async () => {
  const cases = join(new URL("../fixtures/fix/cases/", import.meta.url).pathname);
  const notArray = await kilnFix(join(cases, "builder_not_object.json"));
  assert.equal(notArray.code, 1);
  assert.equal(notArray.stdout, "");
  assert.match(
    notArray.stderr,
    /^Error fixing \S+builder_not_object\.json: builders\[1\]: expected a builder object, got a string/,
  );
  const invalid = await kilnFix(join(cases, "validate_fails.json"));
  assert.equal(invalid.code, 1);
  assert.match(
    invalid.stderr,
    /Fixed template fails to parse:\n {2}\* bogus: unknown root level key/,
  );
  const unchecked = await kilnFix(join(cases, "validate_fails.json"), ["-validate=false"]);
  assert.equal(unchecked.code, 0);
  assert.equal(unchecked.stdout, invalid.stdout);
  assert.equal(unchecked.stderr, "");
  // -machine-readable: the same text as one `ui,say` record, as Packer writes it.
  const machine = await kilnFix(join(cases, "validate_fails.json"), [
    "-machine-readable",
    "-validate=false",
  ]);
  const record = parseMachineLine(machine.stdout.trimEnd());
  assert.deepEqual([record.type, ...record.data], ["ui", "say", unchecked.stdout.slice(0, -1)]);
  const help = await kilnFix("-h");
  assert.equal(help.code, 0);
  assert.match(
    help.stdout,
    /^ {2}iso-md5 {20}Replaces "iso_md5" in builders with "iso_checksum"$/m,
  );
  assert.equal(
    help.stdout.match(/^ {2}[a-z][\w-]*[a-z0-9] +[A-Z]/gm)?.length,
    34,
    "every fixer is listed",
  );
  const missing = await kilnFix(join(cases, "no-such-template.json"));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^Error opening template \S+no-such-template\.json: /);
});

Deno.test("a deprecated key: validate points at kiln fix, and the fixed template validates", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "x.iso"), "");
    await Deno.writeTextFile(join(dir, "id_rsa"), "");
    const template = {
      builders: [{
        type: "qemu",
        iso_url: "x.iso",
        iso_checksum_type: "md5",
        iso_checksum: "d41d8cd98f00b204e9800998ecf8427e",
        ssh_username: "u",
        ssh_key_path: "id_rsa",
      }],
      "post-processors": [{ type: "manifest", filename: "m.json" }],
    };
    await Deno.writeTextFile(join(dir, "t.json"), JSON.stringify(template, null, 2));
    const before = await runKiln(["validate", "t.json"], { cwd: dir });
    assert.equal(before.code, 1);
    const said = before.stdout + before.stderr;
    for (
      const [path, key] of [
        ["builders[0].iso_checksum_type", "iso_checksum_type"],
        ["builders[0].ssh_key_path", "ssh_key_path"],
        ["post-processors[0].filename", "filename"],
      ]
    ) {
      assert.ok(
        said.includes(`${path}: Deprecated configuration key: '${key}'. Please call \`kiln fix\``),
        said,
      );
    }
    const fixed = await runKiln(["fix", "t.json"], { cwd: dir });
    assert.equal(fixed.code, 0, fixed.stderr);
    const value = JSON.parse(fixed.stdout);
    assert.equal(value.builders[0].iso_checksum, "md5:d41d8cd98f00b204e9800998ecf8427e");
    assert.equal(value.builders[0].ssh_private_key_file, "id_rsa");
    assert.equal(value["post-processors"][0].output, "m.json");
    await Deno.writeTextFile(join(dir, "fixed.json"), fixed.stdout);
    const after = await runKiln(["validate", "fixed.json"], { cwd: dir });
    assert.equal(after.code, 0, after.stdout + after.stderr);
    // HCL2 has no fix (packer fix reads JSON only): there it is an unknown argument, as in Packer.
    await Deno.mkdir(join(dir, "hcl"));
    await Deno.writeTextFile(
      join(dir, "hcl", "a.pkr.hcl"),
      'source "null" "a" {\n  communicator = "none"\n  ssh_key_path = "k"\n}\n' +
        'build {\n  sources = ["source.null.a"]\n}\n',
    );
    const hcl = await runKiln(["validate", "hcl"], { cwd: dir });
    assert.equal(hcl.code, 1);
    assert.match(
      hcl.stdout + hcl.stderr,
      /source\.null\.a\.ssh_key_path: unknown configuration key/,
    );
    assert.doesNotMatch(hcl.stdout + hcl.stderr, /kiln fix/);
  });
});
