/**
 * The build's HTTP server, as Packer's StepHTTPServer: `http_directory` or
 * `http_content`, on a free port of `http_port_min`..`http_port_max`
 * (Packer draws from [min, max), max excluded unless min = max), bound to
 * `http_bind_address`. kiln binds 127.0.0.1 by default rather than every
 * interface: a guest on qemu's user-mode network reaches it as 10.0.2.2.
 */
import { contentHandler } from "./http_content.ts";
import { directoryHandler } from "./http_files.ts";

/** What to serve and where. Exactly one of `directory` and `content`. */
export interface HttpServerOptions {
  directory?: string;
  content?: Readonly<Record<string, string>>;
  bindAddress?: string;
  portMin?: number;
  portMax?: number;
  /** One call per answered request, for the build's output. */
  onRequest?: (entry: HttpRequestLog) => void;
}

/** A request the server answered. */
export interface HttpRequestLog {
  method: string;
  path: string;
  status: number;
  /** The client's address, e.g. "127.0.0.1:51234". */
  remote: string;
  durationMs: number;
}

/** A running build HTTP server. */
export interface BuildHttpServer {
  address: string;
  port: number;
  /** Stops listening and ends open connections. */
  stop(): Promise<void>;
}

/** Packer's default port range. */
export const defaultHttpPortMin = 8000;
export const defaultHttpPortMax = 9000;

/** Starts the server on the first free port, in random order as Packer picks. */
export async function startHttpServer(options: HttpServerOptions): Promise<BuildHttpServer> {
  const { directory, content } = options;
  if ((directory === undefined) === (content === undefined)) {
    throw new Error("the HTTP server needs exactly one of http_directory and http_content");
  }
  if (directory !== undefined) {
    const info = await Deno.stat(directory).catch((e) => {
      throw new Error(`http_directory ${JSON.stringify(directory)} cannot be served: ${e.message}`);
    });
    if (!info.isDirectory) {
      throw new Error(`http_directory ${JSON.stringify(directory)} is not a directory`);
    }
  }
  const root = directory === undefined ? undefined : await Deno.realPath(directory);
  const handle = root !== undefined ? directoryHandler(root) : contentHandler(content!);
  const hostname = options.bindAddress ?? "127.0.0.1";
  const min = options.portMin ?? defaultHttpPortMin;
  const max = options.portMax ?? defaultHttpPortMax;
  if (min > max) {
    throw new Error(`http_port_min (${min}) must not be greater than http_port_max (${max})`);
  }

  const serve = async (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => {
    const started = performance.now();
    let response: Response;
    try {
      response = await handle(request);
    } catch (e) {
      response = new Response(
        `500 Internal Server Error: ${e instanceof Error ? e.message : e}\n`,
        {
          status: 500,
        },
      );
    }
    const url = new URL(request.url);
    options.onRequest?.({
      method: request.method,
      path: url.pathname + url.search,
      status: response.status,
      remote: `${info.remoteAddr.hostname}:${info.remoteAddr.port}`,
      durationMs: performance.now() - started,
    });
    return response;
  };

  for (const port of candidatePorts(min, max)) {
    const controller = new AbortController();
    try {
      const server = Deno.serve({
        hostname,
        port,
        signal: controller.signal,
        onListen: () => {},
      }, serve);
      return {
        address: hostname,
        port,
        stop: async () => {
          controller.abort();
          await server.finished;
        },
      };
    } catch (e) {
      if (e instanceof Deno.errors.AddrInUse) continue;
      throw new Error(
        `cannot start the HTTP server on ${hostname}:${port}: ${
          e instanceof Error ? e.message : e
        }`,
      );
    }
  }
  throw new Error(`no free port for the HTTP server between ${min} and ${max} on ${hostname}`);
}

/** Every port of Packer's range once, in random order. */
export function candidatePorts(min: number, max: number): number[] {
  const ports: number[] = [];
  for (let p = min; p < max || p === min; p++) ports.push(p);
  for (let i = ports.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [ports[i], ports[j]] = [ports[j], ports[i]];
  }
  return ports;
}

/**
 * `{{ .HTTPIP }}` as the guest sees the host: 10.0.2.2 on qemu's user-mode
 * network; with `net_bridge`, the bridge's first IPv4 address.
 */
export function httpIpForGuest(netBridge?: string): string {
  if (!netBridge) return "10.0.2.2";
  const address = Deno.networkInterfaces().find((i) => i.name === netBridge && i.family === "IPv4");
  if (!address) {
    throw new Error(`net_bridge ${JSON.stringify(netBridge)} has no IPv4 address on this host`);
  }
  return address.address;
}

/** A request as one line for the build's output. */
export function formatRequestLog(entry: HttpRequestLog): string {
  return `${entry.remote} "${entry.method} ${entry.path}" ${entry.status} ${
    entry.durationMs.toFixed(1)
  }ms`;
}
