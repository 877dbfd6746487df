/**
 * Runs moto's S3 server (an S3 implementation nobody here wrote) on a free
 * loopback port, for cross-checking the emulator and the S3 run store. moto
 * comes as source (KILN_MOTO_SRC, or /work/moto-src) and runs on Debian's
 * /usr/bin/python3 with the python3-* packages listed in README.md.
 *
 *   deno run -A tests/support/s3/moto.ts     prints {"endpoint": ...}, runs until Ctrl-C
 */

const PYTHON = "/usr/bin/python3";
const DEFAULT_SOURCE = "/work/moto-src";

/** A running moto server. */
export interface Moto {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * Where moto's source is, or why it cannot run here (a sentence for a skip
 * message). The source is the directory holding `moto/server.py`.
 */
export function motoSource(): { source: string } | { missing: string } {
  const source = Deno.env.get("KILN_MOTO_SRC") ?? DEFAULT_SOURCE;
  if (!isFile(`${source}/moto/server.py`)) {
    return { missing: `no moto source at ${source} (set KILN_MOTO_SRC)` };
  }
  if (!isFile(PYTHON)) return { missing: `${PYTHON} is not installed` };
  return { source };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

/** Starts moto's server and waits until it answers; `stop()` it in a `finally`. */
export async function startMoto(source?: string): Promise<Moto> {
  const found = source ? { source } : motoSource();
  if ("missing" in found) throw new Error(`cannot start moto: ${found.missing}`);
  const port = freePort();
  const child = new Deno.Command(PYTHON, {
    args: ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)],
    env: { PYTHONPATH: found.source, PYTHONDONTWRITEBYTECODE: "1" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  let exited = false;
  child.status.then(() => exited = true);
  while (true) {
    try {
      const answer = await fetch(`${endpoint}/moto-api/`);
      await answer.body?.cancel();
      break;
    } catch {
      if (exited || Date.now() > deadline) {
        if (!exited) child.kill("SIGTERM");
        await child.status;
        throw new Error(`moto did not start on ${endpoint}:\n${(await stderr).slice(-2000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    endpoint,
    port,
    stop: async () => {
      if (!exited) child.kill("SIGTERM");
      await child.status;
      await stderr;
    },
  };
}

if (import.meta.main) {
  try {
    const moto = await startMoto();
    console.log(JSON.stringify({ endpoint: moto.endpoint }));
    const stop = Promise.withResolvers<void>();
    Deno.addSignalListener("SIGINT", stop.resolve);
    Deno.addSignalListener("SIGTERM", stop.resolve);
    await stop.promise;
    await moto.stop();
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    Deno.exit(1);
  }
}
