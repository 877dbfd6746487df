/**
 * The vagrant post-processor after a real qemu build of the fast test guest
 * (its cached disk image, booted under TCG), two boxes in two chains. kiln
 * is killed (SIGKILL) while the first box is being written: that leaves
 * only the partial file the ledger claimed before its first byte.
 * `build --resume` writes that box again, whole, and is killed in turn
 * while writing the second; `cleanup` then removes everything the run made
 * — the complete box, the second's partial file, the disk — and nothing
 * else: the user's file beside the boxes stays.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { diskBuilder, events, exists, onlyRun, qemuPidsOfRun, withQemuLab } from "./lab.ts";
import { CLI_PATH } from "../../support/kiln_cli.ts";
import { imageInfo } from "../../../hypervisors/qemu/img.ts";

/**
 * Runs kiln with `args` and SIGKILLs it once a partial file of the box
 * `box` (under `dir`/boxes) has bytes; returns that partial's name.
 */
async function killWhileWriting(dir: string, home: string, args: string[], box: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI_PATH, ...args],
    cwd: dir,
    env: { KILN_HOME: home, NO_COLOR: "1", PACKER_CACHE_DIR: join(dir, "cache") },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const boxes = join(dir, "boxes");
  const deadline = Date.now() + 240_000;
  try {
    while (Date.now() < deadline) {
      for (const e of Deno.readDirSync(boxes)) {
        const partial = e.name.startsWith(`${box}.kiln-`) && e.name.endsWith(".partial");
        if (partial && Deno.statSync(join(boxes, e.name)).size > 0) {
          child.kill("SIGKILL");
          return e.name;
        }
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`no partial ${box} appeared`);
  } finally {
    const status = await child.status;
    assert.equal(status.signal, "SIGKILL", `kiln was still writing ${box} when killed`);
  }
}

const listing = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

Deno.test("qemu → vagrant: killed mid-box, resumed into a whole box, killed again, cleaned up to the user's file", async () => {
  await withQemuLab(async (lab) => {
    const boxes = join(lab.dir, "boxes");
    await Deno.mkdir(boxes);
    await Deno.writeTextFile(join(boxes, "notes.txt"), "the user's\n");
    // The slowest level keeps each box being written long enough to be caught.
    const vagrant = (output: string) => ({ type: "vagrant", output, compression_level: 9 });
    const file = await lab.template(diskBuilder(lab.guest, { vm_name: "fast.qcow2" }), {
      "post-processors": [
        [vagrant("boxes/{{.BuildName}}-{{.Provider}}.box")],
        [vagrant("boxes/second-{{.Provider}}.box")],
      ],
    });
    const first = await killWhileWriting(lab.dir, lab.home, ["build", file], "qemu-libvirt.box");
    const runId = onlyRun(lab.home);
    assert.equal(first, `qemu-libvirt.box.kiln-${runId}-qemu.partial`);
    assert.deepEqual(listing(boxes), ["notes.txt", first], "no box under its final name yet");
    const claimed = (await events(lab.home, runId)).some((e) =>
      e.type === "ResourceCreated" && e.data.id === join(boxes, first)
    );
    assert.ok(claimed, "the partial box was in the ledger before it was written");

    const second = await killWhileWriting(
      lab.dir,
      lab.home,
      ["build", "--resume", runId],
      "second-libvirt.box",
    );
    assert.deepEqual(listing(boxes), ["notes.txt", "qemu-libvirt.box", second].sort());
    const x = join(lab.dir, "x");
    await Deno.mkdir(x);
    const box = join(boxes, "qemu-libvirt.box");
    const untar = await new Deno.Command("tar", { args: ["-xzf", box, "-C", x] }).output();
    assert.equal(
      untar.code,
      0,
      `the resumed box is whole: ${new TextDecoder().decode(untar.stderr)}`,
    );
    assert.deepEqual(listing(x), ["Vagrantfile", "box.img", "metadata.json"]);
    // The builder's own artifact data: disk_size 64M rounds up to 1 GiB, TCG is libvirt's "qemu".
    assert.deepEqual(JSON.parse(await Deno.readTextFile(join(x, "metadata.json"))), {
      format: "qcow2",
      provider: "libvirt",
      virtual_size: 1,
    });
    assert.match(await Deno.readTextFile(join(x, "Vagrantfile")), /libvirt\.driver = "qemu"/);
    const info = await imageInfo(join(x, "box.img"));
    assert.equal(info.format, "qcow2");
    assert.equal(info.virtualSize, 64 * 1024 * 1024);
    assert.ok(exists(join(lab.dir, "out", "fast.qcow2")), "the disk stays until every chain ran");

    const clean = await lab.kiln(["cleanup", runId]);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.deepEqual(listing(boxes), ["notes.txt"], "the run's boxes and partial file are gone");
    assert.equal(await Deno.readTextFile(join(boxes, "notes.txt")), "the user's\n");
    assert.ok(!exists(join(lab.dir, "out")), "the run's disk is gone");
    assert.deepEqual(qemuPidsOfRun(runId), []);
  });
});
