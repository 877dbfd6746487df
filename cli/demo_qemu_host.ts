/**
 * Whether `kiln demo` can build a machine image here: qemu (and the tools
 * that make the demo guest) present — installed with apt when missing, if
 * kiln runs as root — and qemu's TCG emulator really running a guest. When
 * not, the answer says why, so the demo can fall back to its file build.
 */
import { probeAccelerator } from "../hypervisors/qemu/accel.ts";
import { commonHostTools, ensureHostTools, missingHostTools } from "../guests/host_tools.ts";

/** The qemu the demo uses: `$KILN_QEMU_BINARY`, else `qemu-system-x86_64` from PATH. */
export const QEMU_BINARY_ENV = "KILN_QEMU_BINARY";

/** The verdict of {@link prepareQemuHost}. */
export type QemuHost = { ok: true; binary: string } | { ok: false; why: string };

/** Where `program` resolves: itself when it names a path, else the first match on PATH. */
async function locate(program: string): Promise<string | undefined> {
  const candidates = program.includes("/")
    ? [program]
    : (Deno.env.get("PATH") ?? "").split(":").filter(Boolean).map((dir) => `${dir}/${program}`);
  for (const candidate of candidates) {
    try {
      const info = await Deno.stat(candidate);
      if (info.isFile && (info.mode ?? 0o111) & 0o111) return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** Why apt cannot install packages here, or undefined when it can (root and apt-get present). */
async function whyNoApt(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return `this is ${Deno.build.os}, not Debian`;
  if (Deno.uid() !== 0) return "kiln is not running as root";
  if (!(await locate("apt-get"))) return "apt-get is not on PATH";
  return undefined;
}

/**
 * Finds or installs qemu and the guest-building tools, then boots qemu's
 * probe guest under TCG. `say` reports what it is doing.
 */
export async function prepareQemuHost(say: (line: string) => void): Promise<QemuHost> {
  const configured = Deno.env.get(QEMU_BINARY_ENV);
  const program = configured || "qemu-system-x86_64";
  const missing = await missingHostTools(commonHostTools);
  if (configured && !(await locate(program))) {
    return { ok: false, why: `${QEMU_BINARY_ENV}=${configured} is not an executable file` };
  }
  if (missing.length > 0) {
    const noApt = await whyNoApt();
    if (noApt) {
      return {
        ok: false,
        why: `it needs the Debian packages ${missing.join(" ")} and cannot install them: ` +
          `${noApt} (install them with \`sudo apt-get install -y ${missing.join(" ")}\`)`,
      };
    }
    say(`installing qemu and the tools that build the demo guest (one time, a minute or two)`);
    try {
      await ensureHostTools(commonHostTools, "for kiln demo");
    } catch (err) {
      return { ok: false, why: `installing ${missing.join(" ")} failed: ${firstLine(err)}` };
    }
  }
  const binary = await locate(program);
  if (!binary) return { ok: false, why: `${program} is not on PATH` };
  const probe = await probeAccelerator("tcg", { binary, timeoutMs: 30_000 });
  if (!probe.works) {
    return { ok: false, why: `qemu's TCG emulator does not run a guest here: ${probe.reason}` };
  }
  return { ok: true, binary };
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0];
}
