import assert from "node:assert/strict";
import { join } from "node:path";
import { compressPostProcessor } from "../../post_processors/compress.ts";
import { detectFormat } from "../../post_processors/compress_format.ts";
import { checksumPostProcessor } from "../../post_processors/checksum.ts";
import { BGZF_EOF } from "../../post_processors/bgzf_stream.ts";
import { XZ_MISSING } from "../../post_processors/xz_stream.ts";
import { Xxh32, xxh32 } from "../../post_processors/xxh32.ts";
import { artifactOf, decode, fixture, issues, postContext, sh, withTempDir } from "./support.ts";

const schema = compressPostProcessor.schema;

/** Two inputs: a 5 MiB file (compressible text and random bytes, past the 4 MiB lz4 block) and a small one. */
async function inputs(dir: string): Promise<string[]> {
  const big = new Uint8Array(5 * 1024 * 1024 + 123);
  const text = new TextEncoder().encode("kiln builds images; ".repeat(4096));
  for (let off = 0; off < 2 * 1024 * 1024; off += text.length) {
    big.set(text.subarray(0, Math.min(text.length, 2 * 1024 * 1024 - off)), off);
  }
  for (let off = 2 * 1024 * 1024; off < big.length; off += 65536) {
    crypto.getRandomValues(big.subarray(off, Math.min(off + 65536, big.length)));
  }
  const a = join(dir, "in", "disk.img");
  const b = join(dir, "in", "notes.txt");
  await Deno.mkdir(join(dir, "in"));
  await Deno.writeFile(a, big);
  await Deno.writeTextFile(b, "small file\n");
  return [a, b];
}

async function sameBytes(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([Deno.readFile(a), Deno.readFile(b)]);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

async function compress(files: string[], raw: Record<string, unknown>) {
  const { ctx, ui } = postContext();
  const result = await compressPostProcessor.postProcess(
    ctx,
    decode(schema, raw),
    artifactOf(files),
  );
  return { result, ui };
}

Deno.test("compress: every archive format round-trips through the system tools", async () => {
  await withTempDir(async (dir) => {
    const files = await inputs(dir);
    const cases: [string, string][] = [
      ["out.tar.gz", "tar -xzf {a} -C {x}"],
      ["out.tgz", "tar -xzf {a} -C {x}"],
      ["out.tar", "tar -xf {a} -C {x}"],
      ["out.zip", "unzip -q {a} -d {x}"],
      ["out.tar.lz4", "lz4 -dc {a} | tar -xf - -C {x}"],
      ["out.tar.xz", "tar -xJf {a} -C {x}"],
    ];
    for (const [name, extract] of cases) {
      const target = join(dir, name);
      const { result, ui } = await compress(files, { output: target });
      assert.deepEqual(result.artifact.files, [target]);
      assert.equal(result.artifact.builderId, "packer.post-processor.compress");
      assert.equal(result.artifact.description, `compressed artifacts in: ${target}`);
      assert.equal(result.keep, false, "compress discards its input unless told otherwise");
      assert.equal(ui.says.at(-1), `Archive ${target} completed`);
      const x = join(dir, `x-${name}`);
      await Deno.mkdir(x);
      const cmd = extract.replace("{a}", target).replace("{x}", x);
      const { code, stderr } = await sh("/bin/sh", ["-c", cmd]);
      assert.equal(code, 0, `${name}: ${stderr}`);
      // tar entries carry base names (Packer); zip entries the path as given, minus the leading "/".
      const root = name.endsWith(".zip") ? join(x, dir.slice(1), "in") : x;
      for (const file of files) {
        assert.ok(await sameBytes(file, join(root, file.split("/").pop()!)), `${name}: ${file}`);
      }
    }
  });
});

Deno.test("compress: .gz, .lz4 and .xz compress a single file; several files are refused as Packer does", async () => {
  await withTempDir(async (dir) => {
    const files = await inputs(dir);
    for (const [name, tool] of [["one.gz", "gzip"], ["one.lz4", "lz4"], ["one.xz", "xz"]]) {
      const target = join(dir, name);
      await compress([files[0]], { output: target });
      const out = join(dir, `${name}.out`);
      const { code } = await sh("/bin/sh", ["-c", `${tool} -dc ${target} > ${out}`]);
      assert.equal(code, 0);
      assert.ok(await sameBytes(files[0], out), name);
    }
    const expected = (await fixture("compress_multi.txt")).trim()
      .replace("[out/nested/dir/art.txt extra.txt]", `[${files.join(" ")}]`);
    await assert.rejects(
      () => compress(files, { output: join(dir, "multi.gz") }),
      (err: Error) => err.message === expected,
    );
    await assert.rejects(() => Deno.stat(join(dir, "multi.gz")), Deno.errors.NotFound);
  });
});

Deno.test("compress: .bgzf is blocked gzip (BC members of at most 64 KiB, EOF block)", async () => {
  await withTempDir(async (dir) => {
    const files = await inputs(dir);
    const target = join(dir, "disk.bgzf");
    await compress([files[0]], { output: target });
    const out = join(dir, "disk.out");
    assert.equal((await sh("/bin/sh", ["-c", `gzip -dc ${target} > ${out}`])).code, 0);
    assert.ok(await sameBytes(files[0], out));
    const bytes = await Deno.readFile(target);
    const view = new DataView(bytes.buffer);
    let members = 0;
    for (let at = 0; at < bytes.length; members++) {
      assert.deepEqual([...bytes.subarray(at, at + 4)], [0x1f, 0x8b, 8, 4], `member ${members}`);
      assert.deepEqual([...bytes.subarray(at + 12, at + 14)], [0x42, 0x43], "BC subfield");
      const size = view.getUint16(at + 16, true) + 1;
      assert.ok(size <= 65536);
      at += size;
    }
    assert.ok(members > 80, `${members} members`);
    assert.deepEqual([...bytes.subarray(-28)], [...BGZF_EOF]);
    await compress(files, { output: join(dir, "all.tar.bgzf") });
    const list = await sh("tar", ["-tzf", join(dir, "all.tar.bgzf")]);
    assert.equal(list.stdout, "disk.img\nnotes.txt\n");
  });
});

Deno.test("compress: tar entries look like Packer's (fixture): base names, modes, mtime 0, deterministic", async () => {
  await withTempDir(async (dir) => {
    const art = join(dir, "art.txt");
    const extra = join(dir, "extra.txt");
    await Deno.writeTextFile(art, "hello packer\n", { mode: 0o600 });
    await Deno.chmod(art, 0o600);
    await Deno.writeTextFile(extra, "extra\n");
    await Deno.chmod(extra, 0o644);
    const target = join(dir, "art.tar");
    await compress([art, extra], { output: target });
    const listing = await sh("/bin/sh", ["-c", `tar tvf ${target} | awk '{print $1, $2, $3, $6}'`]);
    if (Deno.uid() === 0) assert.equal(listing.stdout, await fixture("art_tar.list"));
    const dated = await sh("tar", ["--numeric-owner", "-tvf", target]);
    assert.match(dated.stdout, /1970-01-01 00:00 art\.txt/);
    const first = await Deno.readFile(target);
    await compress([art, extra], { output: join(dir, "again.tar.gz") });
    await compress([art, extra], { output: join(dir, "again2.tar.gz") });
    assert.ok(
      await sameBytes(join(dir, "again.tar.gz"), join(dir, "again2.tar.gz")),
      "same inputs, same bytes",
    );
    assert.ok(first.length > 0);
  });
});

Deno.test("compress: tar keeps names longer than 100 bytes (GNU long names)", async () => {
  await withTempDir(async (dir) => {
    const long = join(dir, `${"n".repeat(150)}.img`);
    await Deno.writeTextFile(long, "long name\n");
    const target = join(dir, "long.tar");
    await compress([long], { output: target });
    const listing = await sh("tar", ["-tf", target]);
    assert.equal(listing.stdout, `${"n".repeat(150)}.img\n`);
  });
});

Deno.test("compress: format overrides the extension; the default name is Packer's, without extension", async () => {
  await withTempDir(async (dir) => {
    const files = await inputs(dir);
    await compress(files, { output: join(dir, "bundle"), format: "zip" });
    assert.equal((await sh("unzip", ["-tq", join(dir, "bundle")])).code, 0);
    await compress([files[1]], { output: `${dir}/packer_{{.BuildName}}_{{.BuilderType}}` });
    const target = join(dir, "packer_art_file");
    const listing = await sh("tar", ["-tzf", target]);
    assert.equal(listing.stdout, "notes.txt\n");
  });
});

Deno.test("compress: compression_level trades speed for size; out-of-range levels follow Packer", async () => {
  await withTempDir(async (dir) => {
    const files = await inputs(dir);
    await compress([files[0]], { output: join(dir, "fast.gz"), compression_level: 1 });
    await compress([files[0]], { output: join(dir, "small.gz"), compression_level: 9 });
    const fast = (await Deno.stat(join(dir, "fast.gz"))).size;
    const small = (await Deno.stat(join(dir, "small.gz"))).size;
    assert.ok(small < fast, `level 9 (${small}) smaller than level 1 (${fast})`);
    assert.match(issues(schema, { compression_level: -2 })[0], /Invalid compression level/);
    assert.deepEqual(issues(schema, { compression_level: 12 }), []);
    assert.deepEqual(issues(schema, { output: "x.tar.xz" }), []);
  });
});

/** The LZMA2 dictionary size `xz --list` reads from a .xz file's block header. */
async function xzDictionary(path: string): Promise<string> {
  const { code, stdout, stderr } = await sh("xz", ["--robot", "--list", "-vv", path]);
  assert.equal(code, 0, stderr);
  const dict = stdout.match(/--lzma2=[^\s]*dict=(\w+)/)?.[1];
  assert.ok(dict, `no LZMA2 filter in: ${stdout}`);
  return dict;
}

Deno.test("compress: xz honours compression_level as xz's preset (-1 … -9), default 6", async () => {
  await withTempDir(async (dir) => {
    const files = await inputs(dir);
    // The preset's dictionary size is recorded in the file: -1 1 MiB, -6 8 MiB, -9 64 MiB.
    const cases: [Record<string, unknown>, string][] = [
      [{ compression_level: 1 }, "1MiB"],
      [{}, "8MiB"],
      [{ compression_level: 0 }, "8MiB"], // Packer: 0 and -1 mean the default
      [{ compression_level: 9 }, "64MiB"],
    ];
    for (const [i, [level, dict]] of cases.entries()) {
      const target = join(dir, `level${i}.tar.xz`);
      await compress([files[1]], { output: target, ...level });
      assert.equal(await xzDictionary(target), dict, JSON.stringify(level));
    }
  });
});

Deno.test("compress: without the xz program, .xz is a clear error and leaves no file", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "in.txt"), "data\n");
    // A kiln whose PATH has no xz (a child: PATH is the whole process's).
    const script = `
      import { compressPostProcessor } from "${new URL(
      "../../post_processors/compress.ts",
      import.meta.url,
    )}";
      import { artifactOf, decode, postContext } from "${new URL("./support.ts", import.meta.url)}";
      const { ctx } = postContext();
      const config = decode(compressPostProcessor.schema, { output: "${dir}/out.tar.xz" });
      await compressPostProcessor.postProcess(ctx, config, artifactOf(["${dir}/in.txt"]))
        .then(() => console.log("no error"), (err) => console.log(err.message));
    `;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      env: { PATH: "/nonexistent", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim();
    assert.equal(text, XZ_MISSING, new TextDecoder().decode(out.stderr));
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["in.txt"]);
  });
});

Deno.test("compress: format detection follows Packer's filename rules", () => {
  assert.deepEqual(detectFormat("a.tar.gz"), { archive: "tar", algorithm: "gzip" });
  assert.deepEqual(detectFormat("a.gz"), { archive: undefined, algorithm: "gzip" });
  assert.deepEqual(detectFormat("a.tar.lz4"), { archive: "tar", algorithm: "lz4" });
  assert.deepEqual(detectFormat("a.zip"), { archive: "zip", algorithm: undefined });
  assert.deepEqual(detectFormat("a.tar"), { archive: "tar", algorithm: undefined });
  assert.deepEqual(detectFormat("a.tgz"), { archive: "tar", algorithm: "gzip" });
  assert.deepEqual(detectFormat("packer_null_null"), { archive: "tar", algorithm: "gzip" });
  assert.deepEqual(detectFormat("a.TAR.GZ"), { archive: "tar", algorithm: "gzip" });
  assert.deepEqual(detectFormat("a", ".tar.lz4"), { archive: "tar", algorithm: "lz4" });
});

Deno.test("lz4 frame descriptor checksum matches Packer's frames", () => {
  // Packer 1.6.6 writes FLG 0x64, BD 0x70 and header checksum 0xb9.
  assert.equal((xxh32(new Uint8Array([0x64, 0x70])) >>> 8) & 0xff, 0xb9);
  // xxHash32 reference values (seed 0).
  assert.equal(xxh32(new Uint8Array()), 0x02cc5d05);
  assert.equal(
    xxh32(new TextEncoder().encode("Nobody inspects the spammish repetition")),
    0xe2293b2f,
  );
  // Streaming in odd-sized pieces gives the one-shot value.
  const data = crypto.getRandomValues(new Uint8Array(1000));
  const stream = new Xxh32();
  for (let off = 0; off < data.length; off += 7) stream.update(data.subarray(off, off + 7));
  assert.equal(stream.digest(), xxh32(data));
});

Deno.test("compress and checksum name a missing input file", async () => {
  await withTempDir(async (dir) => {
    const missing = join(dir, "gone.img");
    await assert.rejects(
      () => compress([missing], { output: join(dir, "a.tar.gz") }),
      (err: Error) => err.message.startsWith(`Unable to read file ${missing}: `),
    );
    await assert.rejects(
      () => compress([missing], { output: join(dir, "a.gz") }),
      (err: Error) => err.message.startsWith(`Failed to open source file ${missing} for reading`),
    );
    await assert.rejects(() => Deno.stat(join(dir, "a.gz")), Deno.errors.NotFound);
    const { ctx } = postContext();
    await assert.rejects(
      () =>
        checksumPostProcessor.postProcess(
          ctx,
          decode(checksumPostProcessor.schema, { output: join(dir, "sum") }),
          artifactOf([missing]),
        ),
      (err: Error) => err.message === `unable to open file ${missing}: No such file or directory`,
    );
  });
});
