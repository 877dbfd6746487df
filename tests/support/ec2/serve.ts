/**
 * Runs the EC2 + S3 emulator on its own until Ctrl-C, for trying a template by
 * hand or from a script:
 *
 *   deno run -A tests/support/ec2/serve.ts [--ssh-port 22] [--pending-ms 300]
 *     [--throttle 0.3] [--seed 1] [--invisible 0] [--ignore-client-token] [--bucket NAME]
 *
 * Prints one JSON line: `{"endpoint": ..., "s3": ..., "state": ...}`. Point
 * `custom_endpoint_ec2` at `endpoint`; `state` is the leak ledger.
 */
import { parseArgs } from "node:util";
import { startEc2Emulator } from "./mod.ts";

function number(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) {
    console.error(`--${flag}: expected a number, got '${value}'`);
    Deno.exit(2);
  }
  return n;
}

if (import.meta.main) {
  let values;
  try {
    ({ values } = parseArgs({
      args: Deno.args,
      options: {
        "ssh-port": { type: "string" },
        "pending-ms": { type: "string" },
        throttle: { type: "string" },
        seed: { type: "string" },
        invisible: { type: "string" },
        "ignore-client-token": { type: "boolean" },
        bucket: { type: "string", multiple: true },
      },
    }));
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    Deno.exit(2);
  }
  const emulator = await startEc2Emulator({
    sshPort: number("ssh-port", values["ssh-port"]),
    pendingMs: number("pending-ms", values["pending-ms"]),
    buckets: values.bucket,
    faults: {
      throttleRate: number("throttle", values.throttle),
      seed: number("seed", values.seed),
      invisibleForDescribes: number("invisible", values.invisible),
      ignoreClientToken: values["ignore-client-token"],
    },
  });
  console.log(JSON.stringify({
    endpoint: emulator.endpoint,
    s3: emulator.s3.endpoint,
    state: `${emulator.endpoint}/_kiln/state`,
    instances: `${emulator.endpoint}/_kiln/instances`,
  }));
  const stop = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGINT", stop.resolve);
  Deno.addSignalListener("SIGTERM", stop.resolve);
  await stop.promise;
  await emulator.close();
}
