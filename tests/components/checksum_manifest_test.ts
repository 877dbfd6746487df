import assert from "node:assert/strict";
import { join } from "node:path";
import { checksumPostProcessor } from "../../post_processors/checksum.ts";
import { manifestPostProcessor } from "../../post_processors/manifest.ts";
import { artificePostProcessor } from "../../post_processors/artifice.ts";
import { artifactOf, decode, fixture, issues, postContext, sh, withTempDir } from "./support.ts";

/** The inputs of the fixture template `artifacts.json`. */
async function fixtureInputs(dir: string): Promise<string[]> {
  const art = join(dir, "out", "nested", "dir", "art.txt");
  await Deno.mkdir(join(dir, "out", "nested", "dir"), { recursive: true });
  await Deno.writeTextFile(art, "hello packer\n");
  await Deno.writeTextFile(join(dir, "extra.txt"), "extra\n");
  return [art, join(dir, "extra.txt")];
}

const output = (dir: string) =>
  `${dir}/packer_{{.BuildName}}_{{.BuilderType}}_{{.ChecksumType}}.checksum`;

Deno.test("checksum files match Packer 1.6.6's (fixture) and verify with md5sum/sha256sum -c", async () => {
  await withTempDir(async (dir) => {
    const files = await fixtureInputs(dir);
    const { ctx } = postContext();
    const config = decode(checksumPostProcessor.schema, {
      checksum_types: ["md5", "sha256"],
      output: output(dir),
    });
    const result = await checksumPostProcessor.postProcess(ctx, config, artifactOf(files));
    const md5 = join(dir, "packer_art_file_md5.checksum");
    const sha256 = join(dir, "packer_art_file_sha256.checksum");
    assert.equal(await Deno.readTextFile(md5), await fixture("art_md5.checksum"));
    assert.equal(await Deno.readTextFile(sha256), await fixture("art_sha256.checksum"));
    assert.deepEqual(result.artifact.files, [...files, md5, sha256]);
    assert.equal(result.artifact.builderId, "packer.post-processor.checksum");
    assert.equal(
      result.artifact.description,
      `Created artifact from files: ${[...files, md5, sha256].join(", ")}`,
    );
    assert.equal(result.keep, true);
    assert.equal(result.forceOverride, true);
    // The lines name base names: check them next to the files.
    await Deno.copyFile(files[0], join(dir, "art.txt"));
    assert.equal((await sh("md5sum", ["-c", md5], dir)).code, 0);
    assert.equal((await sh("sha256sum", ["-c", sha256], dir)).code, 0);
  });
});

Deno.test("checksum: every type is right, default md5, appends on a second run", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "data.bin");
    await Deno.writeFile(file, crypto.getRandomValues(new Uint8Array(50_000)));
    const { ctx } = postContext({ buildName: "b", builderType: "null" });
    const all = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"];
    await checksumPostProcessor.postProcess(
      ctx,
      decode(checksumPostProcessor.schema, {
        checksum_types: all,
        output: `${dir}/sums.{{.ChecksumType}}`,
      }),
      artifactOf([file]),
    );
    for (const type of all) {
      const { code, stdout } = await sh(`${type}sum`, ["-c", `sums.${type}`], dir);
      assert.equal(code, 0, `${type}: ${stdout}`);
    }
    const config = decode(checksumPostProcessor.schema, { output: output(dir) });
    const first = await checksumPostProcessor.postProcess(ctx, config, artifactOf([file]));
    const second = await checksumPostProcessor.postProcess(ctx, config, artifactOf([file]));
    const md5 = join(dir, "packer_b_null_md5.checksum");
    assert.deepEqual(first.artifact.files, [file, md5]);
    assert.deepEqual(
      second.artifact.files,
      [file],
      "an existing checksum file is not listed again",
    );
    assert.equal((await Deno.readTextFile(md5)).split("\n").filter(Boolean).length, 2);
  });
});

Deno.test("checksum: no input files writes nothing; unknown types are refused", async () => {
  await withTempDir(async (dir) => {
    const { ctx } = postContext();
    const result = await checksumPostProcessor.postProcess(
      ctx,
      decode(checksumPostProcessor.schema, { output: output(dir) }),
      artifactOf([]),
    );
    assert.deepEqual(result.artifact.files, []);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    assert.deepEqual(issues(checksumPostProcessor.schema, { checksum_types: ["crc32"] }), [
      "c.checksum_types: Unrecognized checksum type: crc32",
    ]);
  });
});

/** Replaces what differs between runs (times, run ids, temp dirs) so manifests compare. */
function normalise(text: string, dir?: string): string {
  let out = text.replace(/"build_time": \d+/g, `"build_time": 0`)
    .replace(/"(packer_run_uuid|last_run_uuid)": "[^"]*"/g, `"$1": "RUN"`);
  if (dir) out = out.replaceAll(dir + "/", "");
  return out;
}

Deno.test("manifest: the file has exactly Packer 1.6.6's shape (fixture: artifice → checksum → manifest)", async () => {
  await withTempDir(async (dir) => {
    const files = await fixtureInputs(dir);
    const { ctx } = postContext();
    const picked = await artificePostProcessor.postProcess(
      ctx,
      decode(artificePostProcessor.schema, { files }),
      artifactOf([files[0]]),
    );
    const summed = await checksumPostProcessor.postProcess(
      ctx,
      decode(checksumPostProcessor.schema, {
        checksum_types: ["md5", "sha256"],
        output: output(dir),
      }),
      picked.artifact,
    );
    const manifest = join(dir, "manifest.json");
    const result = await manifestPostProcessor.postProcess(
      ctx,
      decode(manifestPostProcessor.schema, {
        output: manifest,
        strip_path: true,
        custom_data: { purpose: "fixture art" },
      }),
      summed.artifact,
    );
    assert.equal(
      normalise(await Deno.readTextFile(manifest)),
      normalise(await fixture("manifest.json")),
    );
    assert.equal(result.artifact, summed.artifact, "manifest passes its input on");
    assert.equal(result.keep, true);
    assert.equal(result.forceOverride, true);
  });
});

Deno.test("manifest: null artifact with strip_time matches Packer (fixture)", async () => {
  await withTempDir(async (dir) => {
    const { ctx } = postContext({ buildName: "null", builderType: "null" });
    const manifest = join(dir, "null-manifest.json");
    await manifestPostProcessor.postProcess(
      ctx,
      decode(manifestPostProcessor.schema, { output: manifest, strip_time: true }),
      { builderId: "fnoeding.null", id: "Null", files: [], description: "" },
    );
    assert.equal(
      normalise(await Deno.readTextFile(manifest)),
      normalise(await fixture("null_manifest.json")),
    );
  });
});

Deno.test("manifest: appends across runs, -force truncates once per run, parallel builds all land", async () => {
  await withTempDir(async (dir) => {
    // Packer 1.6.6 does not create the output's directory (tests/cli/build_habits_test.ts).
    await Deno.mkdir(join(dir, "m"));
    const manifest = join(dir, "m", "{{.BuildName}}.json");
    const config = decode(manifestPostProcessor.schema, { output: manifest });
    const file = join(dir, "a.txt");
    await Deno.writeTextFile(file, "abc");
    const run = async (runId: string, buildName: string, force = false) =>
      await manifestPostProcessor.postProcess(
        postContext({ runId, buildName, force }).ctx,
        config,
        artifactOf([file]),
      );
    const read = async () => JSON.parse(await Deno.readTextFile(join(dir, "m", "art.json")));

    await run("run-1", "art");
    await run("run-2", "art");
    let m = await read();
    assert.deepEqual(m.builds.map((b: { packer_run_uuid: string }) => b.packer_run_uuid), [
      "run-1",
      "run-2",
    ]);
    assert.equal(m.last_run_uuid, "run-2");
    assert.deepEqual(m.builds[0].files, [{ name: file, size: 3 }]);
    assert.equal(typeof m.builds[0].build_time, "number");

    await run("run-3", "art", true);
    await Promise.all(["x1", "x2", "x3"].map(() => run("run-3", "art", true)));
    m = await read();
    assert.equal(
      m.builds.length,
      1,
      "-force truncated once; the same entry of one run is not duplicated",
    );

    // Parallel builds of one run append to one shared file.
    const shared = decode(manifestPostProcessor.schema, {
      output: join(dir, "shared.json"),
      strip_time: true,
    });
    await Promise.all(
      ["a", "b", "c", "d"].map((name) =>
        manifestPostProcessor.postProcess(
          postContext({ runId: "run-4", buildName: name }).ctx,
          shared,
          artifactOf([file]),
        )
      ),
    );
    const s = JSON.parse(await Deno.readTextFile(join(dir, "shared.json")));
    assert.deepEqual(s.builds.map((b: { name: string }) => b.name).sort(), ["a", "b", "c", "d"]);
    await assert.rejects(() => Deno.stat(join(dir, "shared.json.lock")), Deno.errors.NotFound);
  });
});

Deno.test("manifest: a corrupt manifest is refused with the file named", async () => {
  await withTempDir(async (dir) => {
    const manifest = join(dir, "bad.json");
    await Deno.writeTextFile(manifest, "{not json");
    await assert.rejects(
      () =>
        manifestPostProcessor.postProcess(
          postContext().ctx,
          decode(manifestPostProcessor.schema, { output: manifest }),
          artifactOf([]),
        ),
      (err: Error) => err.message.startsWith(`Unable to parse content from ${manifest}:`),
    );
  });
});

Deno.test("artifice: globs pick the new files, the old ones are kept", async () => {
  await withTempDir(async (dir) => {
    for (const name of ["b.img", "a.img", "notes.txt", ".hidden.img"]) {
      await Deno.writeTextFile(join(dir, name), name);
    }
    const { ctx, ui } = postContext();
    const result = await artificePostProcessor.postProcess(
      ctx,
      decode(artificePostProcessor.schema, {
        files: [`${dir}/*.img`, `${dir}/notes.txt`, `${dir}/missing`],
      }),
      artifactOf([join(dir, "old")]),
    );
    assert.deepEqual(result.artifact.files, [
      join(dir, ".hidden.img"),
      join(dir, "a.img"),
      join(dir, "b.img"),
      join(dir, "notes.txt"),
    ]);
    assert.equal(result.artifact.builderId, "packer.post-processor.artifice");
    assert.equal(result.keep, true);
    assert.deepEqual(ui.says[0], `Discarding files from artifact: ${join(dir, "old")}`);
    assert.match(ui.says[1], /^Using these artifact files: /);
    assert.deepEqual(issues(artificePostProcessor.schema, {}), [
      "c.files: No files specified in artifice configuration",
    ]);
  });
});
