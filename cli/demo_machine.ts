/**
 * `kiln demo`'s machine-image build: the fast guest (guests/, built from
 * Debian packages on first use and cached under the user's cache directory)
 * gives the installer ISO and the SSH key; examples/demo.json boots it with
 * the qemu builder, provisions the installed disk over SSH and ends with a
 * compacted qcow2 image, its checksum and a manifest.
 */
import { join, relative } from "node:path";
import type { FastGuest } from "../guests/fast_guest.ts";

/** What {@link prepareDemoGuest} hands back: the guest, or why there is none. */
export type DemoGuest = { ok: true; guest: FastGuest } | { ok: false; why: string };

/** Builds (first run) or finds the fast guest in the user's kiln cache. */
export async function prepareDemoGuest(say: (line: string) => void): Promise<DemoGuest> {
  // Loaded here, not at the top: `kiln validate` and friends never pay for it.
  const { ensureFastGuest, userCacheRoot } = await import("../guests/mod.ts");
  const cacheRoot = userCacheRoot();
  const started = performance.now();
  try {
    const guest = await ensureFastGuest({
      cacheRoot,
      purpose: "for kiln demo's guest",
      onBuild: () =>
        say(
          `preparing the demo guest from Debian packages (first run only; cached in ` +
            `${cacheRoot}/guests) ...`,
        ),
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    say(
      guest.fromCache
        ? `demo guest from the cache: ${guest.dir}`
        : `demo guest built in ${seconds} s: ${guest.dir}`,
    );
    return { ok: true, guest };
  } catch (err) {
    const said = (err instanceof Error ? err.message : String(err)).split("\n").slice(0, 3);
    return { ok: false, why: `the demo guest could not be prepared: ${said.join(" ")}` };
  }
}

/** Hex SHA-256 of a file, streamed. */
async function sha256File(path: string): Promise<string> {
  const { createHash } = await import("node:crypto");
  const hash = createHash("sha256");
  using file = await Deno.open(path);
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
}

/** The `-var` flags that point examples/demo.json at the guest and the qemu binary. */
export async function machineVars(guest: FastGuest, qemuBinary: string): Promise<string[]> {
  return [
    "-var",
    `iso_url=${guest.iso}`,
    "-var",
    `iso_checksum=sha256:${await sha256File(guest.iso)}`,
    "-var",
    `ssh_private_key_file=${guest.privateKey}`,
    "-var",
    `qemu_binary=${qemuBinary}`,
  ];
}

/** The closing lines of a successful machine demo: image, checksum, run, replay. */
export async function machineSummary(
  outDir: string,
  seconds: number,
  runId: string,
): Promise<string> {
  const imageDir = join(outDir, "image");
  const image = join(imageDir, "kiln-demo.qcow2");
  const size = (await Deno.stat(image)).size;
  const checksum = (await Deno.readTextFile(join(imageDir, "machine.sha256"))).split(/\s/)[0];
  const shown = relative(Deno.cwd(), image) || image;
  return [
    `kiln demo: a machine image, built in ${seconds.toFixed(0)} s:`,
    `  image     ${shown} (qcow2, ${(size / 1e6).toFixed(1)} MB); ` +
    `\`qemu-img check ${shown}\``,
    `  sha256    ${checksum} (${join(imageDir, "machine.sha256")}; ` +
    `verify: \`(cd ${imageDir} && sha256sum -c machine.sha256)\`)`,
    `  on disk   /kiln-build.txt on its boot partition, written over SSH by the provisioner`,
    `  run       ${runId}: \`kiln runs show ${runId}\`, \`kiln replay ${runId}\``,
    `            (kiln = npx -y deno@2.9.6 task kiln)`,
  ].join("\n");
}
