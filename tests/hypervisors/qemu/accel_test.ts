/**
 * The accelerator probe: the boot sector is what accel_probe.S says, it
 * reaches long mode under TCG, and the default-accelerator decision follows
 * what the probe guest really does — checked on this machine's own KVM and
 * on stand-in qemu binaries whose "kvm" works, stalls, or is refused, so the
 * decision is tested wherever the suite runs.
 */
import assert from "node:assert/strict";
import {
  defaultAccelerator,
  machineOption,
  probeAccelerator,
  probeBootSector,
} from "../../../hypervisors/qemu/accel.ts";
import { withTempDir } from "../../support/temp_dir.ts";
import { since } from "./support.ts";

const source = new URL("../../../hypervisors/qemu/accel_probe.S", import.meta.url).pathname;

/**
 * A qemu stand-in that runs the real qemu, with `accel=kvm` replaced by
 * `accel=<as>` (plus `extra` arguments when it was kvm).
 */
async function fakeQemu(dir: string, name: string, as: string, extra = ""): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(
    path,
    `#!/bin/bash
args=() kvm=
for a in "$@"; do
  case "$a" in *accel=kvm*) kvm=1; a="\${a/accel=kvm/accel=${as}}";; esac
  args+=("$a")
done
[ -n "$kvm" ] && args+=(${extra})
exec qemu-system-x86_64 "\${args[@]}"
`,
    { mode: 0o755 },
  );
  return path;
}

Deno.test("the embedded probe boot sector is accel_probe.S, assembled", async () => {
  await withTempDir(async (dir) => {
    for (
      const [cmd, ...args] of [
        ["as", "--32", "-o", `${dir}/p.o`, source],
        [
          "ld",
          "-m",
          "elf_i386",
          "-Ttext=0x7c00",
          "--oformat=binary",
          "-o",
          `${dir}/p.bin`,
          `${dir}/p.o`,
        ],
      ]
    ) {
      const out = await new Deno.Command(cmd, { args, stderr: "piped" }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    }
    assert.deepEqual(await Deno.readFile(`${dir}/p.bin`), probeBootSector());
  });
});

Deno.test("the probe guest finishes under TCG", async () => {
  const result = await probeAccelerator("tcg");
  assert.equal(result.works, true, result.reason);
  assert.equal(result.stage, "ran");
  console.log(`TCG probe: ${result.ms} ms`);
});

Deno.test("an accelerator qemu does not know is refused in qemu's words", async () => {
  const result = await probeAccelerator("nonesuch");
  assert.equal(result.works, false);
  assert.match(result.reason ?? "", /^qemu refused accel=nonesuch: .*invalid accelerator nonesuch/);
});

Deno.test("default accelerator: a KVM that stalls guests is rejected with the reason, and cached", async () => {
  await withTempDir(async (dir) => {
    // "kvm" here runs the guest paused: present, accepted, never runs a guest.
    const binary = await fakeQemu(dir, "stalled-kvm", "tcg", "-S");
    const cacheDir = `${dir}/cache`;
    const t = performance.now();
    const first = await defaultAccelerator({ binary, cacheDir, kvmDevice: "/dev/null" });
    const probeMs = since(t);
    assert.equal(first.accelerator, "tcg");
    assert.equal(first.source, "probe");
    assert.match(
      first.kvmRejected ?? "",
      /^a guest under kvm printed nothing on its serial port: it never got past its firmware \(waited \d+ ms; the same guest under tcg finished in \d+ ms\)$/,
    );
    assert.ok(probeMs < 6_000, `rejecting took ${probeMs} ms`);

    const t2 = performance.now();
    const second = await defaultAccelerator({ binary, cacheDir, kvmDevice: "/dev/null" });
    assert.deepEqual(second, { ...first, source: "cache" });
    assert.ok(since(t2) < 200);
    const files = [...Deno.readDirSync(cacheDir)].map((e) => e.name);
    const bootId = Deno.readTextFileSync("/proc/sys/kernel/random/boot_id").trim();
    assert.deepEqual(files, [`qemu-accel-${bootId}.json`]);

    const again = await defaultAccelerator({
      binary,
      cacheDir,
      kvmDevice: "/dev/null",
      refresh: true,
    });
    assert.equal(again.source, "probe");
  });
});

Deno.test("default accelerator: a KVM that runs the guest is chosen; a refused one is not", async () => {
  await withTempDir(async (dir) => {
    const working = await fakeQemu(dir, "working-kvm", "tcg");
    const choice = await defaultAccelerator({
      binary: working,
      cacheDir: `${dir}/a`,
      kvmDevice: "/dev/null",
    });
    assert.deepEqual(Object.keys(choice).sort(), ["accelerator", "probeMs", "source"]);
    assert.equal(choice.accelerator, "kvm");

    const refused = await fakeQemu(dir, "no-kvm", "nokvm");
    const rejected = await defaultAccelerator({
      binary: refused,
      cacheDir: `${dir}/b`,
      kvmDevice: "/dev/null",
    });
    assert.equal(rejected.accelerator, "tcg");
    assert.match(
      rejected.kvmRejected ?? "",
      /^qemu refused accel=kvm: .*invalid accelerator nokvm$/,
    );
  });
});

Deno.test("default accelerator: a probe that cannot run at all proves nothing and is not cached", async () => {
  await withTempDir(async (dir) => {
    const choice = await defaultAccelerator({
      binary: `${dir}/no-qemu`,
      cacheDir: `${dir}/cache`,
      kvmDevice: "/dev/null",
    });
    assert.equal(choice.accelerator, "tcg");
    assert.match(
      choice.kvmRejected ?? "",
      /^cannot run .*no-qemu: .*; the probe did not run under tcg either: cannot run .*no-qemu/,
    );
    assert.equal(await Deno.stat(`${dir}/cache`).catch(() => undefined), undefined);
  });
});

Deno.test("default accelerator: no KVM device means tcg without a probe", async () => {
  await withTempDir(async (dir) => {
    const choice = await defaultAccelerator({ cacheDir: dir, kvmDevice: `${dir}/kvm` });
    assert.deepEqual(choice, {
      accelerator: "tcg",
      source: "platform",
      kvmRejected:
        `${dir}/kvm does not exist (no KVM module loaded, or no hardware virtualisation)`,
      probeMs: 0,
    });
  });
});

Deno.test("default accelerator on this machine: kvm only when it runs the guest about as fast as tcg", async () => {
  await withTempDir(async (dir) => {
    const t = performance.now();
    const choice = await defaultAccelerator({ cacheDir: dir, refresh: true });
    console.log(`this machine: ${JSON.stringify(choice)} in ${since(t)} ms`);
    if (choice.source === "platform") return; // No /dev/kvm: nothing to boot.
    const tcg = await probeAccelerator("tcg");
    const kvm = await probeAccelerator("kvm", { timeoutMs: Math.max(tcg.ms * 3, 3_000) });
    console.log(`tcg ${tcg.ms} ms; kvm ${kvm.works ? `${kvm.ms} ms` : `not within ${kvm.ms} ms`}`);
    assert.equal(choice.accelerator === "kvm", kvm.works, kvm.reason);
  });
});

Deno.test("-machine is written as Packer writes it", () => {
  assert.equal(machineOption("pc", "kvm"), "type=pc,accel=kvm");
  assert.equal(machineOption("q35", "tcg"), "type=q35,accel=tcg");
  assert.equal(machineOption("pc", "none"), "type=pc");
});
