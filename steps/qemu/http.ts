/**
 * Packer's HTTP server step: `http_directory` or `http_content` served to
 * the guest during the build, reachable as `{{ .HTTPIP }}:{{ .HTTPPort }}`
 * in the boot command and as `PACKER_HTTP_ADDR` in provisioners. The
 * server lives in the kiln process; a resumed process starts it again on
 * the logged port, since a guest that is still installing may fetch more.
 *
 * On qemu's user-mode network the guest reaches the host's loopback as
 * 10.0.2.2, so kiln binds 127.0.0.1 where the template leaves Packer's
 * default of every interface; an explicit address is honoured.
 */
import type { Step, StepContext } from "../../runtime/types.ts";
import {
  formatRequestLog,
  httpIpForGuest,
  startHttpServer,
} from "../../hypervisors/qemu/http_server.ts";
import type { QemuConfig } from "./config.ts";
import { type HttpOutput, optionalOutput, QEMU_STEP } from "./outputs.ts";

const LIVE_KEY = "qemu.http";

/** Whether the template serves anything over HTTP. */
export function wantsHttp(c: QemuConfig): boolean {
  return Boolean(c.http_directory) || Object.keys(c.http_content).length > 0;
}

function bindAddress(c: QemuConfig): string {
  const configured = c.http_bind_address || "0.0.0.0";
  return !c.net_bridge && configured === "0.0.0.0" ? "127.0.0.1" : configured;
}

async function serve(ctx: StepContext, c: QemuConfig, min: number, max: number) {
  const server = await startHttpServer({
    ...(c.http_directory ? { directory: c.http_directory } : { content: c.http_content }),
    bindAddress: bindAddress(c),
    portMin: min,
    portMax: max,
    onRequest: (entry) => ctx.ui.message(`HTTP ${formatRequestLog(entry)}`),
  });
  ctx.runtime?.live.set(LIVE_KEY, { close: () => server.stop() });
  return server;
}

function publish(ctx: StepContext, out: HttpOutput): void {
  Object.assign(ctx.runtime?.buildData ?? {}, {
    PackerHTTPIP: out.ip,
    PackerHTTPPort: String(out.port),
    PackerHTTPAddr: `${out.ip}:${out.port}`,
  });
}

/** Starts the build's HTTP server. */
export function httpStep(): Step<HttpOutput> {
  return {
    id: QEMU_STEP.http,
    async run(ctx) {
      const c = ctx.config as unknown as QemuConfig;
      ctx.ui.say("Starting HTTP server...");
      const server = await serve(ctx, c, c.http_port_min, c.http_port_max);
      const out = {
        ip: httpIpForGuest(c.net_bridge),
        port: server.port,
        bindAddress: server.address,
      };
      ctx.ui.message(`HTTP server listening on ${server.address}:${server.port}`);
      publish(ctx, out);
      return out;
    },
  };
}

/**
 * The HTTP server of a resumed build, started again on its logged port
 * (a no-op when this process runs it, or the build serves nothing). A port
 * taken meanwhile is reported, not fatal: the guest may need nothing more.
 */
export async function ensureHttp(ctx: StepContext): Promise<void> {
  const out = optionalOutput<HttpOutput>(ctx, QEMU_STEP.http);
  if (!out || !ctx.runtime || ctx.runtime.live.has(LIVE_KEY)) return;
  publish(ctx, out);
  try {
    await serve(ctx, ctx.config as unknown as QemuConfig, out.port, out.port);
    ctx.ui.message(`HTTP server listening again on ${out.bindAddress}:${out.port}`);
  } catch (err) {
    ctx.ui.error(
      `Warning: cannot serve HTTP on port ${out.port} again: ${
        err instanceof Error ? err.message : err
      }`,
    );
  }
}
