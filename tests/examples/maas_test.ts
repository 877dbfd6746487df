/**
 * examples/maas/debian-cloudimg.json end to end, as a user runs it: the kiln
 * CLI builds a MAAS custom image from the realistic test guest (a Debian
 * cloud image) under real qemu, and the test proves what MAAS would be given:
 * the root-filesystem tarball (tgz) holds the guest's root and the curtin
 * hooks and nothing under /proc, /sys, /dev; the checksum file verifies
 * with sha256sum; the manifest lists the artifacts; and the raw disk
 * (ddgz), decompressed, boots again under qemu with a fresh NoCloud seed and
 * accepts SSH, while the build's own key no longer does.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runKiln } from "../support/kiln_cli.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { generateKey } from "../support/sshd.ts";
import { bootGuest, ensureRealisticGuest, makeSeedIso, sshRun } from "../support/guests/mod.ts";
import { runsRoot } from "../../runtime/paths.ts";

const TEMPLATE = new URL("../../examples/maas/debian-cloudimg.json", import.meta.url).pathname;
const NAME = "debian-12-custom";
/** The build (about 3-5 min under TCG on a loaded machine) must end well within this. */
const BUILD_DEADLINE_MS = 15 * 60_000;
const CURTIN_FILES = ["curtin-hooks", "install-custom-packages", "setup-bootloader"];

async function sh(script: string, cwd?: string): Promise<string> {
  const out = await new Deno.Command("sh", {
    args: ["-ec", script],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  assert.ok(out.success, `${script}: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout);
}

/** Powers off and forgets whatever a failed or interrupted build left (its VM first). */
async function cleanupRuns(home: string, cwd: string): Promise<void> {
  let ids: string[] = [];
  try {
    ids = [...Deno.readDirSync(runsRoot(home))].map((e) => e.name);
  } catch { /* no run started */ }
  for (const id of ids) await runKiln(["cleanup", id], { cwd, home });
}

/** One line of `tar -tv`: mode, size, name (a link's target cut off). */
interface TarEntry {
  mode: string;
  size: number;
  name: string;
}

/** Asserts what MAAS's tgz needs, from the tarball's verbose listing. */
async function checkTarball(tarball: string): Promise<void> {
  const listing = await sh(`tar -tvzf '${tarball}'`);
  const entries: TarEntry[] = listing.trimEnd().split("\n").map((line) => {
    const fields = line.split(/\s+/);
    const name = fields.slice(5).join(" ").replace(/ -> .*$/, "");
    return { mode: fields[0], size: Number(fields[2]), name };
  });
  const byName = new Map(entries.map((e) => [e.name, e]));
  for (const want of ["./etc/os-release", "./usr/bin/cloud-init", "./etc/ssh/sshd_config"]) {
    assert.ok(byName.has(want), `${want} in the tarball`);
  }
  for (const dir of ["proc", "sys", "dev", "run", "tmp"]) {
    assert.ok(byName.has(`./${dir}/`), `the ./${dir}/ mount point is kept`);
    const inside = entries.filter((e) => e.name.startsWith(`./${dir}/`) && e.name !== `./${dir}/`);
    assert.deepEqual(inside.map((e) => e.name).slice(0, 5), [], `nothing under ./${dir}/`);
  }
  for (const file of CURTIN_FILES) {
    const entry = byName.get(`./curtin/${file}`);
    assert.ok(entry, `./curtin/${file} in the tarball`);
    assert.equal(entry.mode, "-rwxr-x---", `./curtin/${file} mode`);
  }
  // The build user's key stays out; cloud-init may leave root an empty file.
  assert.ok(!byName.has("./home/debian/.ssh/authorized_keys"), "no build key in the image");
  for (const e of entries.filter((e) => e.name.endsWith("/authorized_keys"))) {
    assert.equal(e.size, 0, `${e.name} is empty`);
  }
  // Debian's /etc/os-release is a link to /usr/lib/os-release.
  const osRelease = byName.get("./etc/os-release")!.mode.startsWith("l")
    ? "./usr/lib/os-release"
    : "./etc/os-release";
  assert.match(await sh(`tar -xzOf '${tarball}' ${osRelease}`), /^VERSION_CODENAME=bookworm$/m);
  const hook = await sh(`tar -xzOf '${tarball}' ./curtin/curtin-hooks`);
  assert.match(hook, /^#!\/usr\/bin\/env python3/);
  assert.match(hook, /builtin_curthooks/);
}

/** The checksum file names both artifacts and verifies; the manifest lists every file. */
async function checkChecksumAndManifest(out: string): Promise<void> {
  const sums = await Deno.readTextFile(join(out, `${NAME}.sha256`));
  const named = sums.trimEnd().split("\n").map((line) => line.split("\t")[1]).sort();
  assert.deepEqual(named, [`${NAME}.dd.gz`, `${NAME}.tar.gz`]);
  const verified = await sh(`sha256sum -c '${NAME}.sha256'`, out);
  assert.match(verified, new RegExp(`^${NAME}\\.tar\\.gz: OK$`, "m"));
  assert.match(verified, new RegExp(`^${NAME}\\.dd\\.gz: OK$`, "m"));

  const manifest = JSON.parse(await Deno.readTextFile(join(out, "manifest.json")));
  assert.equal(manifest.builds.length, 1);
  const build = manifest.builds[0];
  assert.equal(build.name, "maas");
  assert.equal(build.builder_type, "qemu");
  assert.equal(build.custom_data.maas_name, `custom/${NAME}`);
  const files = (build.files as { name: string; size: number }[]).map((f) => f.name).sort();
  assert.deepEqual(files, [
    join(out, `${NAME}.dd.gz`),
    join(out, `${NAME}.sha256`),
    join(out, `${NAME}.tar.gz`),
  ]);
  for (const f of build.files as { name: string; size: number }[]) {
    assert.equal(f.size, (await Deno.stat(f.name)).size, `${f.name} size in the manifest`);
  }
}

/** Decompresses the dd.gz (sparse) and boots it with a new seed: the new user gets in, the build's key does not. */
async function bootDisk(dir: string, ddgz: string, buildKey: string): Promise<void> {
  const raw = join(dir, "deployed.raw");
  await sh(`gzip -dc '${ddgz}' | dd of='${raw}' bs=1M iflag=fullblock conv=sparse status=none`);
  const key = await generateKey(dir, "deploy");
  await makeSeedIso(join(dir, "seed.iso"), {
    userData: `#cloud-config
users:
  - name: deploy
    sudo: ALL=(ALL) NOPASSWD:ALL
    shell: /bin/bash
    ssh_authorized_keys:
      - ${key.publicKey}
`,
  });
  const guest = await bootGuest({
    image: raw,
    imageFormat: "raw",
    snapshot: true,
    cdroms: [join(dir, "seed.iso")],
    memoryMiB: 512,
  });
  try {
    const login = { user: "deploy", privateKey: key.privateKeyPath };
    const ms = await guest.waitForSsh(login, 360_000);
    console.log(`dd.gz disk booted to SSH in ${(ms / 1000).toFixed(1)} s`);
    const seen = await guest.ssh(
      login,
      ". /etc/os-release && echo $VERSION_CODENAME && ls /curtin && cat /etc/machine-id",
    );
    assert.equal(seen.code, 0, seen.stderr);
    const [codename, ...rest] = seen.stdout.trim().split("\n");
    assert.equal(codename, "bookworm");
    assert.deepEqual(rest.slice(0, 3), CURTIN_FILES);
    assert.match(rest[3] ?? "", /^[0-9a-f]{32}$/, "systemd made a new machine id");
    const old = await sshRun({ port: guest.sshPort, user: "debian", privateKey: buildKey }, "true");
    assert.equal(old.code, 255, "the build's key is no longer authorised");
  } finally {
    await guest.stop();
  }
}

Deno.test({
  name: "examples/maas: cloud image → tgz + ddgz with checksum and manifest; the ddgz boots",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withTempDir(async (dir) => {
      const guest = await ensureRealisticGuest();
      const buildKey = await generateKey(dir, "build");
      const home = join(dir, "home");
      const out = join(dir, "out");
      const started = performance.now();
      let built = false;
      try {
        const result = await runKiln([
          "build",
          "-var",
          `base_image=${guest.qcow2Disk}`,
          "-var",
          `output_dir=${out}`,
          "-var",
          `ssh_private_key_file=${buildKey.privateKeyPath}`,
          "-var",
          `ssh_public_key=${buildKey.publicKey}`,
          // Fastest gzip: the tarball is made in the emulated guest.
          "-var",
          "gzip_level=1",
          TEMPLATE,
        ], { cwd: dir, home, signal: AbortSignal.timeout(BUILD_DEADLINE_MS) });
        assert.equal(result.code, 0, result.stdout + result.stderr);
        built = true;
      } finally {
        if (!built) await cleanupRuns(home, dir);
      }
      console.log(`kiln build took ${((performance.now() - started) / 1000).toFixed(1)} s`);
      await checkTarball(join(out, `${NAME}.tar.gz`));
      await checkChecksumAndManifest(out);
      await bootDisk(dir, join(out, `${NAME}.dd.gz`), buildKey.privateKeyPath);
    }, "kiln-maas-"),
});
