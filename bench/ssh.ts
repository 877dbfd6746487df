/**
 * SSH transfer benchmark: kiln's communicator (scp and sftp) against
 * OpenSSH's `scp` to the same loopback sshd, in one run. Each case connects,
 * uploads and disconnects (OpenSSH pays its handshake too); the median of
 * `--runs` (default 3) is reported with throughput and the ratio to OpenSSH.
 *
 * With `--memory-gib N`, also uploads an N GiB file with each method and
 * reports the peak resident memory (the transfer streams, never buffers).
 *
 *   deno run -A bench/ssh.ts [--runs 3] [--size-mib 64] [--files 1000] [--memory-gib 1]
 */
import { writeRandomFile } from "../tests/support/random_file.ts";
import { parseArgs } from "node:util";
import { generateKey, startSshd } from "../tests/support/sshd.ts";
import { openSsh } from "../communicators/ssh.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "3" },
    "size-mib": { type: "string", default: "64" },
    files: { type: "string", default: "1000" },
    "memory-gib": { type: "string", default: "0" },
  },
});
const runs = Number(values.runs);
const sizeMib = Number(values["size-mib"]);
const fileCount = Number(values.files);

const dir = await Deno.makeTempDir({ prefix: "kiln-bench-ssh-" });
const key = await generateKey(dir, "client");
const sshd = await startSshd({ authorizedKeys: [key.publicKey] });

async function makeInputs(): Promise<{ big: string; tree: string; treeBytes: number }> {
  const big = `${dir}/big.bin`;
  await writeRandomFile(big, sizeMib);
  const tree = `${dir}/tree`;
  let treeBytes = 0;
  for (let i = 0; i < fileCount; i++) {
    const sub = `${tree}/d${i % 20}`;
    await Deno.mkdir(sub, { recursive: true });
    const body = `file ${i}\n`.repeat(1 + (i % 50));
    treeBytes += body.length;
    await Deno.writeTextFile(`${sub}/f${i}.txt`, body);
  }
  return { big, tree, treeBytes };
}

const sshArgs = [
  "-q",
  "-o",
  "StrictHostKeyChecking=no",
  "-o",
  "UserKnownHostsFile=/dev/null",
  "-o",
  "BatchMode=yes",
  "-i",
  key.privateKeyPath,
  "-P",
  String(sshd.port),
];

async function openssh(args: string[]): Promise<void> {
  const out = await new Deno.Command("scp", { args: [...sshArgs, ...args], stderr: "piped" })
    .output();
  if (!out.success) throw new Error(`scp: ${new TextDecoder().decode(out.stderr)}`);
}

async function kiln(
  method: "scp" | "sftp",
  work: (c: Awaited<ReturnType<typeof openSsh>>) => Promise<void>,
) {
  const comm = await openSsh({
    config: {
      ssh_username: sshd.user,
      ssh_private_key_file: key.privateKeyPath,
      ssh_file_transfer_method: method,
    },
    target: { host: "127.0.0.1", port: sshd.port },
    signal: new AbortController().signal,
  });
  try {
    await work(comm);
  } finally {
    await comm.close();
  }
}

async function median(
  label: string,
  prepare: () => Promise<void>,
  fn: () => Promise<void>,
): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    await prepare();
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const m = times[Math.floor(times.length / 2)];
  console.error(`  ${label}: ${times.map((t) => t.toFixed(0)).join(", ")} ms`);
  return m;
}

const { big, tree, treeBytes } = await makeInputs();
const out = `${dir}/out`;
const reset = async () => {
  await Deno.remove(out, { recursive: true }).catch(() => {});
  await Deno.mkdir(out);
};

const rows: { case: string; tool: string; ms: number; mibs: number }[] = [];
const record = (name: string, tool: string, ms: number, bytes: number) =>
  rows.push({ case: name, tool, ms, mibs: bytes / (1 << 20) / (ms / 1000) });

const bigBytes = sizeMib << 20;
console.error(`${sizeMib} MiB file:`);
record(
  "file",
  "openssh scp",
  await median("openssh scp", reset, () => openssh([big, `${sshd.user}@127.0.0.1:${out}/big`])),
  bigBytes,
);
record(
  "file",
  "openssh scp -O",
  await median(
    "openssh scp -O (legacy scp protocol)",
    reset,
    () => openssh(["-O", big, `${sshd.user}@127.0.0.1:${out}/big`]),
  ),
  bigBytes,
);
for (const method of ["scp", "sftp"] as const) {
  record(
    "file",
    `kiln ${method}`,
    await median(`kiln ${method}`, reset, () =>
      kiln(method, async (c) => {
        const f = await Deno.open(big, { read: true });
        await c.upload(`${out}/big`, f.readable, { size: bigBytes });
      })),
    bigBytes,
  );
}
console.error(`${fileCount} small files:`);
record(
  "tree",
  "openssh scp",
  await median(
    "openssh scp -r",
    reset,
    () => openssh(["-r", tree, `${sshd.user}@127.0.0.1:${out}/`]),
  ),
  treeBytes,
);
record(
  "tree",
  "openssh scp -O",
  await median(
    "openssh scp -O -r",
    reset,
    () => openssh(["-O", "-r", tree, `${sshd.user}@127.0.0.1:${out}/`]),
  ),
  treeBytes,
);
for (const method of ["scp", "sftp"] as const) {
  record(
    "tree",
    `kiln ${method}`,
    await median(`kiln ${method}`, reset, () => kiln(method, (c) => c.uploadDir(out, tree))),
    treeBytes,
  );
}

const memoryGib = Number(values["memory-gib"]);
const peaks: string[] = [];
if (memoryGib > 0) {
  await Deno.remove(tree, { recursive: true });
  const huge = `${dir}/huge.bin`;
  const file = await Deno.open(huge, { write: true, create: true });
  const block = new Uint8Array(8 << 20);
  for (let i = 0; i < memoryGib * 128; i++) await file.write(block);
  file.close();
  for (const method of ["scp", "sftp"] as const) {
    await reset();
    const before = Deno.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 25);
    const t = performance.now();
    await kiln(method, async (c) => {
      const f = await Deno.open(huge, { read: true });
      await c.upload(`${out}/huge`, f.readable, { size: memoryGib << 30 });
    });
    clearInterval(sampler);
    peaks.push(
      `| ${memoryGib} GiB file | kiln ${method} | ${(performance.now() - t).toFixed(0)} ms | ` +
        `${(before / (1 << 20)).toFixed(0)} MiB | ${(peak / (1 << 20)).toFixed(0)} MiB |`,
    );
  }
}

await sshd.stop();
await Deno.remove(sshd.dir, { recursive: true });
await Deno.remove(dir, { recursive: true });

console.log(`\nSSH upload, loopback sshd, median of ${runs} (connect + transfer + close)\n`);
console.log("| case | tool | wall ms | MiB/s | ratio vs openssh scp |");
console.log("|---|---|---:|---:|---:|");
for (const r of rows) {
  const base = rows.find((x) => x.case === r.case && x.tool === "openssh scp")!;
  const label = r.case === "file" ? `${sizeMib} MiB file` : `${fileCount} files`;
  console.log(
    `| ${label} | ${r.tool} | ${r.ms.toFixed(0)} | ${r.mibs.toFixed(1)} | ${
      (r.ms / base.ms).toFixed(2)
    }× |`,
  );
}
if (peaks.length > 0) {
  console.log(
    "\n| case | tool | wall | RSS before | peak RSS (whole process) |\n|---|---|---:|---:|---:|",
  );
  for (const line of peaks) console.log(line);
}
