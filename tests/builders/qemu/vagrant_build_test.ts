/**
 * The vagrant post-processor after a real qemu build of the fast test guest
 * (its cached disk image, booted under TCG): kiln is killed (SIGKILL) while
 * the box is being written, which leaves only the partial file the ledger
 * claimed before the first byte; `build --resume` then writes the box,
 * discards the disk as Packer does (keep_input_artifact defaults to false
 * for libvirt), and `cleanup` of the finished run keeps the box and the
 * user's file beside it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { diskBuilder, events, exists, onlyRun, qemuPidsOfRun, withQemuLab } from "./lab.ts";
import { CLI_PATH } from "../../support/kiln_cli.ts";
import { imageInfo } from "../../../hypervisors/qemu/img.ts";

/** Starts `kiln build` and SIGKILLs it once a partial box has bytes; returns that partial's name. */
async function killMidWrite(dir: string, home: string, file: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI_PATH, "build", file],
    cwd: dir,
    env: { KILN_HOME: home, NO_COLOR: "1", PACKER_CACHE_DIR: join(dir, "cache") },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const boxes = join(dir, "boxes");
  const deadline = Date.now() + 240_000;
  try {
    while (Date.now() < deadline) {
      for (const e of exists(boxes) ? Deno.readDirSync(boxes) : []) {
        if (e.name.endsWith(".partial") && Deno.statSync(join(boxes, e.name)).size > 0) {
          child.kill("SIGKILL");
          return e.name;
        }
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error("no partial box appeared");
  } finally {
    const status = await child.status;
    await child.stderr.cancel();
    assert.equal(status.signal, "SIGKILL", "kiln was still writing the box when killed");
  }
}

Deno.test("qemu → vagrant: killed mid-box, resumed into a libvirt box; the disk is discarded, the user's file kept", async () => {
  await withQemuLab(async (lab) => {
    await Deno.mkdir(join(lab.dir, "boxes"));
    await Deno.writeTextFile(join(lab.dir, "boxes", "notes.txt"), "the user's\n");
    const file = await lab.template(diskBuilder(lab.guest, { vm_name: "fast.qcow2" }), {
      "post-processors": [{
        type: "vagrant",
        output: "boxes/{{.BuildName}}-{{.Provider}}.box",
        // The slowest level keeps the box being written long enough to be caught.
        compression_level: 9,
      }],
    });
    const partial = await killMidWrite(lab.dir, lab.home, file);
    const runId = onlyRun(lab.home);
    const box = join(lab.dir, "boxes", "qemu-libvirt.box");
    assert.equal(partial, `qemu-libvirt.box.kiln-${runId}-qemu.partial`);
    assert.ok(!exists(box), "no box under its final name before it is complete");
    const before = await events(lab.home, runId);
    const claim = before.find((e) =>
      e.type === "ResourceCreated" && e.data.id === join(lab.dir, "boxes", partial)
    );
    assert.ok(claim, "the partial box was in the ledger before it was written");

    const resumed = await lab.build(["--resume", runId]);
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    assert.match(resumed.stdout, /Creating Vagrant box for 'libvirt' provider/);
    assert.match(resumed.stdout, /'libvirt' provider box: boxes\/qemu-libvirt\.box/);
    assert.deepEqual(
      [...Deno.readDirSync(join(lab.dir, "boxes"))].map((e) => e.name).sort(),
      ["notes.txt", "qemu-libvirt.box"],
      "the partial was replaced by the box",
    );
    assert.ok(!exists(join(lab.dir, "out", "fast.qcow2")), "the disk went into the box");

    const x = join(lab.dir, "x");
    await Deno.mkdir(x);
    const untar = await new Deno.Command("tar", { args: ["-xzf", box, "-C", x] }).output();
    assert.equal(untar.code, 0, new TextDecoder().decode(untar.stderr));
    assert.deepEqual([...Deno.readDirSync(x)].map((e) => e.name).sort(), [
      "Vagrantfile",
      "box.img",
      "metadata.json",
    ]);
    // diskBuilder's disk_size is 64M: rounded up to 1 GiB; the fast guest runs under TCG.
    assert.deepEqual(JSON.parse(await Deno.readTextFile(join(x, "metadata.json"))), {
      format: "qcow2",
      provider: "libvirt",
      virtual_size: 1,
    });
    assert.match(await Deno.readTextFile(join(x, "Vagrantfile")), /libvirt\.driver = "qemu"/);
    const info = await imageInfo(join(x, "box.img"));
    assert.equal(info.format, "qcow2");
    assert.equal(info.virtualSize, 64 * 1024 * 1024);

    const clean = await lab.kiln(["cleanup", runId]);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.ok(exists(box), "a finished run's box is its result, not debris");
    assert.equal(await Deno.readTextFile(join(lab.dir, "boxes", "notes.txt")), "the user's\n");
    assert.deepEqual(qemuPidsOfRun(runId), []);
  });
});
