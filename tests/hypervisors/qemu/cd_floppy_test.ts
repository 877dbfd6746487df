import assert from "node:assert/strict";
import { expandCdFiles, makeCd } from "../../../hypervisors/qemu/cd.ts";
import { floppyLayout, makeFloppy } from "../../../hypervisors/qemu/floppy.ts";
import { goGlob } from "../../../hypervisors/qemu/go_glob.ts";
import { withTempDir } from "../../support/temp_dir.ts";

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
    env: { MTOOLS_SKIP_CHECK: "1" },
  }).output();
  assert.ok(out.success, `${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

/** Every path on an ISO (Rock Ridge names), sorted. */
async function isoPaths(iso: string): Promise<string[]> {
  const out = await run("xorriso", ["-indev", iso, "-find", "/", "-exec", "lsdl"]);
  return out.split("\n").filter(Boolean).map((line) => {
    const path = JSON.parse(line.slice(line.indexOf("'")).replace(/^'|'$/g, '"'));
    return line.startsWith("d") ? `${path}/` : path;
  }).filter((p) => p !== "//" && p !== "/").sort();
}

async function isoFile(iso: string, path: string, dir: string): Promise<string> {
  const target = `${dir}/extracted-${crypto.randomUUID()}`;
  await run("xorriso", ["-osirrox", "on", "-indev", iso, "-extract", path, target]);
  return await Deno.readTextFile(target);
}

/** The volume descriptors: PVD volume id, whether a Joliet SVD and Rock Ridge are present. */
async function isoDescriptors(iso: string) {
  const bytes = await Deno.readFile(iso);
  const pvd = bytes.subarray(16 * 2048, 17 * 2048);
  assert.equal(new TextDecoder().decode(pvd.subarray(1, 6)), "CD001");
  let joliet = false;
  for (let s = 17; s < 32; s++) {
    const d = bytes.subarray(s * 2048, (s + 1) * 2048);
    if (d[0] === 255) break;
    const escapes = new TextDecoder().decode(d.subarray(88, 91));
    if (d[0] === 2 && ["%/@", "%/C", "%/E"].includes(escapes)) joliet = true;
  }
  const text = new TextDecoder("latin1").decode(bytes.subarray(0, Math.min(bytes.length, 400_000)));
  return {
    volumeId: new TextDecoder().decode(pvd.subarray(40, 72)).trimEnd(),
    joliet,
    rockRidge: text.includes("RRIP_1991A") || text.includes("IEEE_P1282") ||
      text.includes("IEEE_1282"),
  };
}

Deno.test("a cloud-init NoCloud seed: cd_content + cd_label cidata", async () => {
  await withTempDir(async (dir) => {
    const userData =
      "#cloud-config\nusers:\n  - name: kiln\n    ssh_authorized_keys: [ssh-ed25519 AAAA test]\n";
    const metaData = "instance-id: kiln-1\nlocal-hostname: kiln\n";
    const files = await makeCd(
      { content: { "user-data": userData, "/meta-data": metaData }, label: "cidata" },
      { out: `${dir}/seed.iso`, staging: `${dir}/stage`, cwd: dir },
    );
    assert.deepEqual(files, ["/meta-data", "/user-data"]);
    assert.deepEqual(await isoPaths(`${dir}/seed.iso`), ["/meta-data", "/user-data"]);
    assert.equal(await isoFile(`${dir}/seed.iso`, "/user-data", dir), userData);
    assert.equal(await isoFile(`${dir}/seed.iso`, "/meta-data", dir), metaData);
    assert.deepEqual(await isoDescriptors(`${dir}/seed.iso`), {
      volumeId: "cidata",
      joliet: true,
      rockRidge: true,
    });
    // What cloud-init's NoCloud source asks of the system: a filesystem labelled cidata.
    const blkid = await run("blkid", ["-p", "-o", "export", `${dir}/seed.iso`]);
    assert.match(blkid, /^LABEL=cidata$/m);
    assert.match(blkid, /^TYPE=iso9660$/m);
  });
});

Deno.test("cd_files: files to the root, directories keep themselves, a trailing slash gives contents", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/seed/nested`, { recursive: true });
    await Deno.writeTextFile(`${dir}/seed/user-data`, "from-dir\n");
    await Deno.writeTextFile(`${dir}/seed/nested/x.cfg`, "x\n");
    await Deno.mkdir(`${dir}/drivers/net`, { recursive: true });
    await Deno.writeTextFile(`${dir}/drivers/net/e1000.inf`, "inf\n");
    await Deno.writeTextFile(`${dir}/a.txt`, "a\n");
    await Deno.writeTextFile(`${dir}/b.txt`, "b\n");
    const files = await makeCd(
      {
        files: ["drivers", "seed/", "*.txt"],
        content: { "user-data": "from-content\n", "deep/er/file": "d\n" },
      },
      { out: `${dir}/cd.iso`, staging: `${dir}/stage`, cwd: dir },
    );
    const expected = [
      "/a.txt",
      "/b.txt",
      "/deep/",
      "/deep/er/",
      "/deep/er/file",
      "/drivers/",
      "/drivers/net/",
      "/drivers/net/e1000.inf",
      "/nested/",
      "/nested/x.cfg",
      "/user-data",
    ];
    assert.deepEqual(files, expected);
    assert.deepEqual(await isoPaths(`${dir}/cd.iso`), expected);
    assert.equal(await isoFile(`${dir}/cd.iso`, "/user-data", dir), "from-content\n");
    assert.equal((await isoDescriptors(`${dir}/cd.iso`)).volumeId, "packer");
  });
});

Deno.test("cd_files and cd_content errors name the entry", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(
      expandCdFiles(["ok-glob-*", "missing.cfg"], dir),
      /cd_files\[1\]: bad CD file "missing.cfg": no such file or directory/,
    );
    assert.deepEqual(await expandCdFiles(["nothing-matches-*"], dir), []);
    await assert.rejects(
      expandCdFiles(["[z-a]*"], dir),
      /cd_files\[0\]: bad CD file "\[z-a\]\*": syntax error/,
    );
    await assert.rejects(
      makeCd({ content: { "../escape": "x" } }, {
        out: `${dir}/x.iso`,
        staging: `${dir}/s`,
        cwd: dir,
      }),
      /cd_content key "..\/escape" points outside the CD/,
    );
    await assert.rejects(
      makeCd({ content: { a: "x" } }, {
        out: `${dir}/x.iso`,
        staging: `${dir}/s2`,
        cwd: dir,
        xorriso: "kiln-no-such-xorriso",
      }),
      /need xorriso, which is not installed/,
    );
  });
});

Deno.test("Go's glob: classes, negation, escapes, dot files, sorted", async () => {
  await withTempDir(async (dir) => {
    for (const name of ["a1", "a2", "b1", ".hidden", "c*"]) {
      await Deno.writeTextFile(`${dir}/${name}`, "");
    }
    await Deno.mkdir(`${dir}/d1/x`, { recursive: true });
    await Deno.writeTextFile(`${dir}/d1/x/f`, "");
    assert.deepEqual(await goGlob("a?", dir), ["a1", "a2"]);
    assert.deepEqual(await goGlob("[ab]1", dir), ["a1", "b1"]);
    assert.deepEqual(await goGlob("[^a]1", dir), ["b1", "d1"]);
    assert.deepEqual(await goGlob("*", dir), [".hidden", "a1", "a2", "b1", "c*", "d1"]);
    assert.deepEqual(await goGlob("c\\*", dir), ["c*"]);
    assert.deepEqual(await goGlob("d?/*/f", dir), ["d1/x/f"]);
    assert.deepEqual(await goGlob(`${dir}/a[0-1]`, "/"), [`${dir}/a1`]);
  });
});

Deno.test("floppy: files flattened, dirs kept, content to the root, label in the boot sector", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/scripts/sub`, { recursive: true });
    await Deno.writeTextFile(`${dir}/scripts/setup.ps1`, "Write-Host hi\r\n");
    await Deno.writeTextFile(`${dir}/scripts/sub/deep.bat`, "echo deep\r\n");
    await Deno.mkdir(`${dir}/drivers/viostor/w10`, { recursive: true });
    await Deno.writeTextFile(`${dir}/drivers/viostor/w10/viostor.inf`, "[Version]\r\n");
    await Deno.writeTextFile(`${dir}/Autounattend.xml`, "<unattend/>\n");
    const { entries, warnings } = await makeFloppy(
      {
        files: ["Autounattend.xml", "scripts"],
        dirs: ["drivers"],
        content: { "meta-data": "instance-id: f\n", "sub/user-data": "#cloud-config\n" },
        label: "cidata",
      },
      { out: `${dir}/floppy.img`, cwd: dir, scratch: `${dir}/scratch` },
    );
    assert.deepEqual(entries.map((e) => e.path), [
      "Autounattend.xml",
      "setup.ps1",
      "deep.bat",
      "drivers/viostor/w10/viostor.inf",
      "meta-data",
      "user-data",
    ]);
    assert.deepEqual(warnings, [
      'floppy_content "sub/user-data" is written to the floppy\'s root as "user-data", as Packer does',
    ]);
    assert.equal((await Deno.stat(`${dir}/floppy.img`)).size, 1474560);
    const listing = await run("mdir", ["-i", `${dir}/floppy.img`, "-/", "-b", "::"]);
    assert.deepEqual(listing.split("\n").filter(Boolean).map((l) => l.trim()).sort(), [
      "::/Autounattend.xml",
      "::/DEEP.BAT",
      "::/DRIVERS/",
      "::/DRIVERS/VIOSTOR/",
      "::/DRIVERS/VIOSTOR/W10/",
      "::/DRIVERS/VIOSTOR/W10/VIOSTOR.INF",
      "::/SETUP.PS1",
      "::/meta-data",
      "::/user-data",
    ]);
    assert.equal(
      await run("mtype", ["-i", `${dir}/floppy.img`, "::/user-data"]),
      "#cloud-config\n",
    );
    const info = await run("minfo", ["-i", `${dir}/floppy.img`, "::"]);
    assert.match(info, /FAT12/);
    const blkid = await run("blkid", ["-p", "-o", "export", `${dir}/floppy.img`]);
    assert.match(blkid, /^LABEL=cidata$/m);
    assert.match(blkid, /^TYPE=vfat$/m);
  });
});

Deno.test("floppy errors: a name twice, too big, a long label", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/one`);
    await Deno.mkdir(`${dir}/two`);
    await Deno.writeTextFile(`${dir}/one/README`, "1");
    await Deno.writeTextFile(`${dir}/two/readme`, "2");
    await assert.rejects(
      floppyLayout({ files: ["one", "two"] }, dir),
      /floppy_files\[1\] \(.*two\/readme\): the floppy already has "readme" \(from floppy_files\[0\].*one\/README\)\); FAT names ignore case/,
    );
    await Deno.writeFile(`${dir}/big`, new Uint8Array(1_600_000));
    await assert.rejects(
      makeFloppy({ files: ["big"] }, { out: `${dir}/f.img`, cwd: dir, scratch: `${dir}/s` }),
      /do not fit on a 1.44 MB floppy/,
    );
    await assert.rejects(
      makeFloppy({ content: { a: "b" }, label: "much-too-long" }, {
        out: `${dir}/f.img`,
        cwd: dir,
        scratch: `${dir}/s`,
      }),
      /floppy_label "much-too-long" must be at most 11 ASCII characters/,
    );
  });
});

const packerInstalled = await new Deno.Command("packer", { args: ["version"], stdout: "null" })
  .output().then((o) => o.success, () => false);

Deno.test({
  name: "cd_files, floppy_files and floppy_dirs lay out media as Packer 1.6.6 does",
  ignore: !packerInstalled,
  fn: () =>
    withTempDir(async (dir) => {
      await Deno.mkdir(`${dir}/seed/nested`, { recursive: true });
      await Deno.writeTextFile(`${dir}/seed/user-data`, "#cloud-config\n");
      await Deno.writeTextFile(`${dir}/seed/nested/n.cfg`, "n\n");
      await Deno.mkdir(`${dir}/drv/a/b`, { recursive: true });
      await Deno.writeTextFile(`${dir}/drv/a/b/x.inf`, "x\n");
      await Deno.writeTextFile(`${dir}/drv/top.sys`, "t\n");
      await Deno.writeTextFile(`${dir}/one.txt`, "1\n");
      await Deno.writeTextFile(`${dir}/two.txt`, "2\n");
      const cdFiles = ["seed", "drv/", "*.txt"];
      const floppyFiles = ["seed", "one.txt"];
      const floppyDirs = ["drv"];
      // A qemu that saves the media Packer attached, then waits to be killed.
      const captured = `${dir}/captured`;
      await Deno.writeTextFile(
        `${dir}/fake-qemu`,
        `#!/bin/sh
if [ "$1" = "-version" ]; then echo "QEMU emulator version 7.2.0"; exit 0; fi
mkdir -p ${captured}
prev=""
for a in "$@"; do
  if [ "$prev" = "-fda" ]; then cp "$a" ${captured}/floppy.img; fi
  case "$a" in *media=cdrom*) f=\${a#file=}; f=\${f%%,*}; case "$f" in */x.iso) ;; *) cp "$f" ${captured}/cd.iso;; esac;; esac
  prev="$a"
done
echo $$ > ${dir}/fake-qemu.pid
touch ${captured}/done
exec sleep 60
`,
      );
      await Deno.chmod(`${dir}/fake-qemu`, 0o755);
      await Deno.writeFile(`${dir}/x.iso`, new Uint8Array());
      await Deno.writeTextFile(
        `${dir}/t.json`,
        JSON.stringify({
          builders: [{
            type: "qemu",
            iso_url: "x.iso",
            iso_checksum: "none",
            ssh_username: "u",
            qemu_binary: `${dir}/fake-qemu`,
            cd_files: cdFiles,
            cd_label: "cidata",
            floppy_files: floppyFiles,
            floppy_dirs: floppyDirs,
            floppy_label: "kilnfd",
            boot_wait: "60s",
            headless: true,
            disk_size: "10M",
            output_directory: "out",
          }],
        }),
      );
      const packer = new Deno.Command("packer", {
        args: ["build", "t.json"],
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
        env: { CHECKPOINT_DISABLE: "1", PACKER_CACHE_DIR: `${dir}/cache`, TMPDIR: dir },
      }).spawn();
      const output = new Response(packer.stdout).text();
      try {
        const deadline = Date.now() + 60_000;
        while (!(await Deno.stat(`${captured}/done`).then(() => true, () => false))) {
          assert.ok(Date.now() < deadline, "Packer never started its qemu");
          await new Promise((r) => setTimeout(r, 200));
        }
      } finally {
        const fakePid = Number(await Deno.readTextFile(`${dir}/fake-qemu.pid`).catch(() => "0"));
        if (fakePid > 0) Deno.kill(fakePid, "SIGKILL");
        packer.kill("SIGINT");
        await packer.status;
        await output;
        await packer.stderr.cancel().catch(() => {});
      }
      await makeCd({ files: cdFiles, label: "cidata" }, {
        out: `${dir}/kiln.iso`,
        staging: `${dir}/stage`,
        cwd: dir,
      });
      assert.deepEqual(await isoPaths(`${dir}/kiln.iso`), await isoPaths(`${captured}/cd.iso`));
      assert.deepEqual(
        await isoDescriptors(`${dir}/kiln.iso`),
        await isoDescriptors(`${captured}/cd.iso`),
      );

      await makeFloppy(
        { files: floppyFiles, dirs: floppyDirs, label: "kilnfd" },
        { out: `${dir}/kiln.img`, cwd: dir, scratch: `${dir}/scratch` },
      );
      const tree = async (img: string) =>
        (await run("mdir", ["-i", img, "-/", "-b", "::"])).split("\n").filter(Boolean).map((l) =>
          l.trim()
        ).sort();
      assert.deepEqual(await tree(`${dir}/kiln.img`), await tree(`${captured}/floppy.img`));
      const label = async (img: string) =>
        new TextDecoder().decode((await Deno.readFile(img)).subarray(43, 54));
      assert.equal(await label(`${dir}/kiln.img`), await label(`${captured}/floppy.img`));
      assert.equal(
        (await Deno.stat(`${dir}/kiln.img`)).size,
        (await Deno.stat(`${captured}/floppy.img`)).size,
      );
    }),
});
