/**
 * Records Packer's qemu command line for each case of packer_argv_cases.ts
 * into tests/fixtures/qemu_argv/<case>.json, so argv_test.ts compares kiln
 * with Packer without running Packer. Run it when the cases change:
 *
 *     npx -y deno@2.9.6 run -A tests/hypervisors/qemu/record_packer_argv.ts [case ...]
 *
 * Each build runs `PACKER_LOG=1 packer build` with `qemu_binary` set to a
 * script that writes its arguments down and exits; the build then fails (no
 * VNC server), which does not matter: the command line is what is kept.
 */
import { argvCases } from "./packer_argv_cases.ts";

const fixtures = new URL("../../fixtures/qemu_argv/", import.meta.url).pathname;
const only = new Set(Deno.args);

const FAKE_QEMU = `#!/bin/sh
case "$1" in -version|--version) echo "QEMU emulator version 7.2.22"; exit 0;; esac
for a in "$@"; do printf '%s\\0' "$a"; done > "$FAKE_QEMU_ARGV"
exit 0
`;

const version = new TextDecoder().decode(
  (await new Deno.Command("packer", { args: ["version"], stdout: "piped" }).output()).stdout,
).trim();

for (const c of argvCases) {
  if (only.size > 0 && !only.has(c.name)) continue;
  const dir = await Deno.makeTempDir({ prefix: "kiln-packer-argv-" });
  try {
    await Deno.writeTextFile(`${dir}/fake-qemu`, FAKE_QEMU, { mode: 0o755 });
    await Deno.writeTextFile(`${dir}/fake.iso`, "not really an ISO\n");
    await Deno.writeTextFile(`${dir}/cdfile.txt`, "on the CD\n");
    await Deno.writeTextFile(`${dir}/floppy.txt`, "on the floppy\n");
    const img = await new Deno.Command("qemu-img", {
      args: ["create", "-f", "qcow2", `${dir}/base.qcow2`, "32M"],
      stdout: "null",
    }).output();
    if (!img.success) throw new Error("qemu-img create failed");
    const builder = JSON.parse(
      JSON.stringify(c.builder).replaceAll("$FAKE_QEMU", `${dir}/fake-qemu`).replaceAll(
        "$DIR",
        dir,
      ),
    );
    await Deno.writeTextFile(
      `${dir}/template.json`,
      JSON.stringify({ builders: [builder] }, null, 2),
    );
    const run = await new Deno.Command("packer", {
      args: ["build", "-force", "template.json"],
      cwd: dir,
      env: { PACKER_LOG: "1", FAKE_QEMU_ARGV: `${dir}/argv.bin`, CHECKPOINT_DISABLE: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const log = new TextDecoder().decode(run.stderr) + new TextDecoder().decode(run.stdout);
    const line = log.split("\n").find((l) => l.includes(`Executing ${dir}/fake-qemu: `));
    let argv: string[];
    try {
      argv = (await Deno.readTextFile(`${dir}/argv.bin`)).split("\0").slice(0, -1);
    } catch {
      console.error(`${c.name}: Packer never ran qemu:\n${log.slice(-3000)}`);
      Deno.exitCode = 1;
      continue;
    }
    const anonymise = (s: string) =>
      s.replaceAll(dir, "$DIR").replace(/\/tmp\/packer[0-9]+\.iso/g, "$CD_ISO")
        .replace(/\/tmp\/packer[0-9]+/g, "$FLOPPY");
    const fixture = {
      case: c.name,
      packer: version,
      builder: c.builder,
      argv: argv.map(anonymise),
      logLine: line ? anonymise(line.replace(/^.*?Executing /, "Executing ")) : null,
    };
    await Deno.writeTextFile(`${fixtures}${c.name}.json`, JSON.stringify(fixture, null, 2) + "\n");
    console.log(`${c.name}: ${argv.length} arguments`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
