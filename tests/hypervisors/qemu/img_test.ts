/** img.ts against the real qemu-img (and qemu-io to write into images). */
import assert from "node:assert/strict";
import {
  checkImage,
  convertImage,
  createImage,
  imageInfo,
  QemuImgError,
  resizeImage,
} from "../../../hypervisors/qemu/img.ts";
import { withTempDir } from "../../support/temp_dir.ts";
import { bareMachine } from "./support.ts";

/** Writes `pattern` bytes at `offset` (a qemu-io command, e.g. "write -P 0xab 0 1M"). */
async function qemuIo(image: string, command: string, format = "qcow2"): Promise<void> {
  const out = await new Deno.Command("qemu-io", {
    args: ["-f", format, "-c", command, image],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

/** Whether two images hold the same guest-visible bytes (`qemu-img compare`). */
async function sameContent(a: string, b: string): Promise<boolean> {
  const out = await new Deno.Command("qemu-img", { args: ["compare", a, b], stdout: "null" })
    .output();
  return out.code === 0;
}

Deno.test("qemu-img create and info: format, size, a backing file and its format", async () => {
  await withTempDir(async (dir) => {
    await createImage(`${dir}/base.qcow2`, { format: "qcow2", size: "64M" });
    await qemuIo(`${dir}/base.qcow2`, "write -P 0x6b 0 4M");
    const base = await imageInfo(`${dir}/base.qcow2`);
    assert.equal(base.format, "qcow2");
    assert.equal(base.virtualSize, 64 * 1024 * 1024);
    assert.equal(base.clusterSize, 65536);
    assert.equal(base.dirty, false);

    // Packer: create -f qcow2 -b <iso> -F qcow2 <args> <path> <size>; the backing format is probed.
    await createImage(`${dir}/overlay.qcow2`, {
      format: "qcow2",
      size: "128M",
      backingFile: `${dir}/base.qcow2`,
      extraArgs: ["-o", "cluster_size=131072"],
    });
    const overlay = await imageInfo(`${dir}/overlay.qcow2`);
    assert.equal(overlay.backingFilename, `${dir}/base.qcow2`);
    assert.equal(overlay.backingFormat, "qcow2");
    assert.equal(overlay.virtualSize, 128 * 1024 * 1024);
    assert.equal(overlay.clusterSize, 131072);
    assert.ok(overlay.actualSize! < base.actualSize!, "the overlay holds none of the base's data");

    await createImage(`${dir}/disk.raw`, { format: "raw", size: "1G" });
    const raw = await imageInfo(`${dir}/disk.raw`, { format: "raw" });
    assert.equal(raw.virtualSize, 1024 ** 3);
    assert.ok(raw.actualSize! < 1024 * 1024, "a new raw image is sparse");
  });
});

Deno.test("qemu-img convert: same content, progress reported, compression and -o options", async () => {
  await withTempDir(async (dir) => {
    await createImage(`${dir}/src.raw`, { format: "raw", size: "256M" });
    await qemuIo(`${dir}/src.raw`, "write -P 0x55 0 32M", "raw");
    await qemuIo(`${dir}/src.raw`, "write -P 0xaa 128M 16M", "raw");
    const progress: number[] = [];
    await convertImage(`${dir}/src.raw`, `${dir}/out.qcow2`, {
      format: "qcow2",
      sourceFormat: "raw",
      onProgress: (p) => progress.push(p),
    });
    assert.ok(await sameContent(`${dir}/src.raw`, `${dir}/out.qcow2`));
    assert.ok(progress.length >= 2, `progress: ${progress}`);
    assert.equal(progress.at(-1), 100);
    assert.deepEqual([...progress].sort((a, b) => a - b), progress, "progress only grows");

    await convertImage(`${dir}/out.qcow2`, `${dir}/small.qcow2`, {
      format: "qcow2",
      compress: true,
      outputOptions: { compression_type: "zstd" },
    });
    assert.ok(await sameContent(`${dir}/src.raw`, `${dir}/small.qcow2`));
    const small = await imageInfo(`${dir}/small.qcow2`);
    const data = (small.raw["format-specific"] as { data: Record<string, unknown> }).data;
    assert.equal(data["compression-type"], "zstd");
    assert.ok(small.actualSize! < (await imageInfo(`${dir}/out.qcow2`)).actualSize! / 10);

    // [qemu_img_args.convert] go before -O, as Packer places them.
    await convertImage(`${dir}/out.qcow2`, `${dir}/full.raw`, {
      format: "raw",
      extraArgs: ["-o", "preallocation=full"],
    });
    assert.ok((await imageInfo(`${dir}/full.raw`)).actualSize! >= 256 * 1024 * 1024);
  });
});

Deno.test("qemu-img resize grows; shrinking needs shrink; errors name the file and quote qemu-img", async () => {
  await withTempDir(async (dir) => {
    const disk = `${dir}/disk.qcow2`;
    await createImage(disk, { format: "qcow2", size: "64M" });
    await resizeImage(disk, "40960M", { format: "qcow2" });
    assert.equal((await imageInfo(disk)).virtualSize, 40960 * 1024 * 1024);
    await assert.rejects(resizeImage(disk, "32M", { format: "qcow2" }), (err: unknown) => {
      assert.ok(err instanceof QemuImgError);
      assert.match(
        err.message,
        new RegExp(`^qemu-img resize of ${disk} failed: qemu-img: .*--shrink`),
      );
      return true;
    });
    await resizeImage(disk, "32M", { format: "qcow2", shrink: true });
    assert.equal((await imageInfo(disk)).virtualSize, 32 * 1024 * 1024);

    await assert.rejects(
      convertImage(`${dir}/missing.raw`, `${dir}/out.qcow2`, { format: "qcow2" }),
      new RegExp(
        `^QemuImgError: qemu-img convert of ${dir}/missing.raw into ${dir}/out.qcow2 failed: ` +
          `qemu-img: Could not open '${dir}/missing.raw': .*No such file or directory$`,
      ),
    );
    await assert.rejects(
      imageInfo(`${dir}/nothing.qcow2`),
      new RegExp(
        `^QemuImgError: qemu-img info of ${dir}/nothing.qcow2 failed: qemu-img: Could not open`,
      ),
    );
    await assert.rejects(
      createImage(`${dir}/bad.qcow2`, { format: "qcow9", size: "1M" }),
      /qemu-img create of .*bad\.qcow2 failed: qemu-img: .*Unknown file format 'qcow9'/,
    );
    await assert.rejects(
      imageInfo(disk, { binary: `${dir}/no-qemu-img` }),
      /cannot run .*no-qemu-img: not found \(install qemu-utils\)/,
    );
  });
});

Deno.test("qemu-img check: a healthy image, then a corrupted one", async () => {
  await withTempDir(async (dir) => {
    const disk = `${dir}/disk.qcow2`;
    await createImage(disk, { format: "qcow2", size: "16M" });
    await qemuIo(disk, "write -P 0xab 0 1M");
    const healthy = await checkImage(disk);
    assert.deepEqual({ ...healthy, raw: undefined }, {
      ok: true,
      corruptions: 0,
      leaks: 0,
      checkErrors: 0,
      raw: undefined,
    });
    // Zero the first refcounts: every cluster in use then counts as unreferenced.
    const file = await Deno.open(disk, { read: true, write: true });
    const header = new Uint8Array(64);
    await file.read(header);
    const view = new DataView(header.buffer);
    const refcountTable = Number(view.getBigUint64(48));
    const entry = new Uint8Array(8);
    await file.seek(refcountTable, Deno.SeekMode.Start);
    await file.read(entry);
    await file.seek(Number(new DataView(entry.buffer).getBigUint64(0)), Deno.SeekMode.Start);
    await file.write(new Uint8Array(64));
    file.close();
    const broken = await checkImage(disk);
    assert.equal(broken.ok, false);
    assert.ok(broken.corruptions > 0);
    await assert.rejects(checkImage(`${dir}/none.qcow2`), /qemu-img check of .*none\.qcow2 failed/);
  });
});

Deno.test("qemu-img on an image a running qemu holds: the lock is recognised", async () => {
  await withTempDir(async (dir) => {
    const disk = `${dir}/disk.qcow2`;
    await createImage(disk, { format: "qcow2", size: "16M" });
    const qemu = new Deno.Command("qemu-system-x86_64", {
      args: [
        ...bareMachine(),
        "-drive",
        `file=${disk},if=virtio,format=qcow2`,
        "-qmp",
        `unix:${dir}/q,server,nowait`,
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      for (let i = 0; i < 100 && !(await Deno.stat(`${dir}/q`).catch(() => undefined)); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 200));
      await assert.rejects(
        convertImage(disk, `${dir}/copy.qcow2`, { format: "qcow2" }),
        (err: unknown) =>
          err instanceof QemuImgError && err.locked && /"write" lock/.test(err.message),
      );
    } finally {
      qemu.kill("SIGKILL");
      await qemu.status;
    }
    await convertImage(disk, `${dir}/copy.qcow2`, { format: "qcow2" });
  });
});

Deno.test("an aborted qemu-img stops and rejects with the reason", async () => {
  await withTempDir(async (dir) => {
    await createImage(`${dir}/src.raw`, { format: "raw", size: "256M" });
    await qemuIo(`${dir}/src.raw`, "write -P 0x12 0 256M", "raw");
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("build cancelled")), 30);
    await assert.rejects(
      convertImage(`${dir}/src.raw`, `${dir}/out.qcow2`, {
        format: "qcow2",
        compress: true,
        signal: controller.signal,
      }),
      /build cancelled/,
    );
  });
});
