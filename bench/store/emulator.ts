/**
 * The S3 emulator in a process of its own, so its CPU is not charged to the
 * kiln processes being measured (they share 2 cores with it either way; see
 * bench/store.ts). `deno run -A bench/store/emulator.ts BUCKET` prints one
 * JSON line `{"endpoint": ...}` and serves until SIGTERM; request counts are
 * read and reset through the emulator's admin path (`/_emulator/calls`).
 */
import { startS3Emulator } from "../../tests/support/s3/mod.ts";

/** A running emulator process. */
export interface EmulatorProcess {
  endpoint: string;
  /** Requests by S3 operation since the last reset. */
  calls(): Promise<Record<string, number>>;
  resetCalls(): Promise<void>;
  /** CPU seconds (user + system) the emulator process has used so far. */
  cpuSeconds(): number;
  close(): Promise<void>;
}

/** Starts the emulator in its own process with `bucket` created. */
export async function startEmulatorProcess(bucket: string): Promise<EmulatorProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, bucket],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the S3 emulator process ended before it listened");
    text += value;
  }
  reader.releaseLock();
  void child.stdout.cancel().catch(() => {});
  const { endpoint } = JSON.parse(text.split("\n")[0]) as { endpoint: string };
  const admin = async (method: string, path: string) => {
    const response = await fetch(`${endpoint}/_emulator/${path}`, { method });
    if (!response.ok) throw new Error(`emulator admin ${path}: ${response.status}`);
    return await response.json();
  };
  return {
    endpoint,
    calls: async () => (await admin("GET", "calls")).calls as Record<string, number>,
    resetCalls: async () => void await admin("POST", "calls/reset"),
    cpuSeconds: () => processCpuSeconds(child.pid),
    close: async () => {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

/** utime + stime of process `pid` from /proc (clock ticks are 100 Hz on Linux). */
export function processCpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

if (import.meta.main) {
  const emulator = await startS3Emulator({ buckets: [Deno.args[0] ?? "kiln-bench"] });
  console.log(JSON.stringify({ endpoint: emulator.endpoint }));
  const stop = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGTERM", stop.resolve);
  Deno.addSignalListener("SIGINT", stop.resolve);
  await stop.promise;
  await emulator.close();
  Deno.exit(0);
}
