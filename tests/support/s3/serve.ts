/**
 * Runs the S3 emulator in its own process, so several processes (a
 * multi-process test, a benchmark) can share one:
 *
 *   deno run -A tests/support/s3/serve.ts [--port 0] [--admin-port 0] [--bucket NAME]...
 *     [--faults '{"throttleRate":0.1}']
 *
 * Prints one JSON line, `{"endpoint": ..., "admin": ...}`, then serves until
 * SIGINT/SIGTERM. `admin` is a second listener answering only `/_emulator/...`
 * (README.md), which stays reachable while the S3 port is offline.
 */
import { parseArgs } from "node:util";
import { parseFaultOptions, type S3FaultOptions } from "./faults.ts";
import { startS3Emulator } from "./server.ts";

function fail(message: string): never {
  console.error(`serve.ts: ${message}`);
  Deno.exit(2);
}

function port(flag: string, value: string | undefined): number {
  if (value === undefined) return 0;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    fail(`--${flag}: expected a port, got '${value}'`);
  }
  return n;
}

function faults(value: string | undefined): S3FaultOptions {
  if (value === undefined) return {};
  try {
    return parseFaultOptions(JSON.parse(value));
  } catch (err) {
    fail(`--faults: ${err instanceof Error ? err.message : String(err)}`);
  }
}

if (import.meta.main) {
  let values;
  try {
    ({ values } = parseArgs({
      args: Deno.args,
      options: {
        port: { type: "string" },
        "admin-port": { type: "string" },
        bucket: { type: "string", multiple: true },
        faults: { type: "string" },
      },
    }));
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  let emulator;
  try {
    emulator = await startS3Emulator({
      port: port("port", values.port),
      buckets: values.bucket,
      faults: faults(values.faults),
    });
  } catch (err) {
    fail(`cannot listen: ${err instanceof Error ? err.message : String(err)}`);
  }
  const admin = Deno.serve(
    { hostname: "127.0.0.1", port: port("admin-port", values["admin-port"]), onListen: () => {} },
    (request) => emulator.admin(request),
  );
  console.log(JSON.stringify({
    endpoint: emulator.endpoint,
    admin: `http://127.0.0.1:${admin.addr.port}`,
  }));
  const stop = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGINT", stop.resolve);
  Deno.addSignalListener("SIGTERM", stop.resolve);
  await stop.promise;
  await admin.shutdown();
  await emulator.close();
}
