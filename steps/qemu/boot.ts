/**
 * After power-on: Packer's `boot_wait`, then the `boot_command` (or each of
 * `boot_steps`) typed into the guest as VNC key events, rendered with
 * `{{ .HTTPIP }}`, `{{ .HTTPPort }}`, `{{ .Name }}`.
 */
import type { StepContext } from "../../runtime/types.ts";
import type { QemuConfig } from "./config.ts";
import { parseBootCommand } from "../../hypervisors/qemu/boot_command.ts";
import { bootKeySteps, keyIntervalMs } from "../../hypervisors/qemu/boot_keys.ts";
import { typeKeySteps } from "../../hypervisors/qemu/boot_typist.ts";
import { VncClient } from "../../hypervisors/qemu/vnc.ts";
import { sleep } from "../../runtime/sleep.ts";
import { type HttpOutput, optionalOutput, type PortsOutput, QEMU_STEP } from "./outputs.ts";
import { vncPassword } from "./ports.ts";

/** The data `boot_command` is rendered with. */
export function bootData(ctx: StepContext): Record<string, unknown> {
  const c = ctx.config as unknown as QemuConfig;
  const http = optionalOutput<HttpOutput>(ctx, QEMU_STEP.http);
  return {
    HTTPIP: http?.ip ?? "",
    HTTPPort: http?.port ?? 0,
    Name: c.vm_name,
    SSHPublicKey: ctx.runtime?.buildData.SSHPublicKey ?? "",
  };
}

function humanMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** Whether the build types anything at boot. */
export function typesAtBoot(c: QemuConfig): boolean {
  return c.boot_command.length > 0 || c.boot_steps.length > 0;
}

/**
 * Waits `boot_wait` (as Packer does, even with nothing to type; not with
 * `disable_vnc`), then types the boot command; cancellable between keys.
 */
export async function bootAndType(
  ctx: StepContext,
  ports: PortsOutput,
  onTyped: () => Promise<void>,
): Promise<void> {
  const c = ctx.config as unknown as QemuConfig;
  if (c.disable_vnc) return;
  // Packer waits boot_wait whether or not there is anything to type.
  if (c.boot_wait > 0) {
    ctx.ui.say(`Waiting ${humanMs(c.boot_wait)} for boot...`);
    await sleep(c.boot_wait, ctx.signal);
  }
  if (!typesAtBoot(c)) return;
  const host = c.vnc_bind_address === "0.0.0.0" ? "127.0.0.1" : c.vnc_bind_address;
  ctx.ui.say(`Connecting to VM via VNC (${host}:${ports.vncPort})`);
  const vnc = await VncClient.connect({
    host,
    port: ports.vncPort,
    shared: true,
    ...(ports.vncPassword ? { password: await vncPassword(ctx) } : {}),
  });
  try {
    const data = bootData(ctx);
    const groups: [string, string | undefined][] = c.boot_command.length > 0
      ? [[c.boot_command.map((part) => ctx.render(part, data)).join(""), undefined]]
      : c.boot_steps.map((s) => [ctx.render(s[0] ?? "", data), s[1]]);
    const intervalMs = keyIntervalMs(c.boot_key_interval, Deno.env.get("PACKER_KEY_INTERVAL"));
    ctx.ui.say("Typing the boot command over VNC...");
    for (const [text, description] of groups) {
      if (description) ctx.ui.say(`Typing boot step: ${description}`);
      const parsed = parseBootCommand(text);
      for (const warning of parsed.warnings) ctx.ui.error(`Warning: ${warning}`);
      await typeKeySteps(vnc, bootKeySteps(parsed.tokens), { intervalMs, signal: ctx.signal });
    }
  } finally {
    vnc.close();
  }
  // Written ahead of the step's success: a resumed run must not type it again.
  await onTyped();
  await ctx.emit("BootCommandTyped", {});
}
