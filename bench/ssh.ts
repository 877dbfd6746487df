/**
 * SSH transfer benchmark: kiln's communicator against OpenSSH's `scp` to the
 * same loopback sshd, in one run, on two hosts: a plain one, and one whose
 * login shell is slow to start (root's real ~/.bashrc, which runs `pyenv
 * init`, is read for every command sshd runs there). The shell startup each
 * host costs is measured and printed. kiln's scp method speaks SFTP where the
 * server offers it (as OpenSSH 9's scp does); "kiln scp (legacy)" is the
 * same method against a twin sshd without the sftp subsystem, so the legacy
 * scp protocol (`scp -t` through the login shell) is what moves the bytes.
 * Each case connects, uploads and disconnects (OpenSSH pays its handshake
 * too); the tools take turns, and the median of `--runs` (default 3) is
 * reported with throughput and the ratio to OpenSSH scp on the same host.
 *
 * With `--memory-gib N`, also uploads an N GiB file with each method and
 * reports the peak resident memory (the transfer streams, never buffers).
 *
 *   deno run -A bench/ssh.ts [--runs 3] [--size-mib 64] [--files 1000] [--memory-gib 1]
 */
import { writeRandomFile } from "../tests/support/random_file.ts";
import { parseArgs } from "node:util";
import { generateKey, type SshdHandle, startSshd } from "../tests/support/sshd.ts";
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

/** A host: an sshd offering SFTP and a twin without it, sharing the session environment. */
interface Host {
  name: string;
  sshd: SshdHandle;
  legacy: SshdHandle;
  shellMs: number;
}

/**
 * The test sshd's SHLVL=1 keeps bash from reading ~/.bashrc; SHLVL=0 lets it,
 * as a stock sshd does, so every command pays root's `pyenv init`.
 */
async function startHost(name: string, env: Record<string, string>): Promise<Host> {
  const sshd = await startSshd({ authorizedKeys: [key.publicKey], env });
  const legacy = await startSshd({ authorizedKeys: [key.publicKey], env, sftp: false });
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const out = await new Deno.Command("ssh", {
      args: [...sshOptions, "-p", String(sshd.port), `${sshd.user}@127.0.0.1`, "true"],
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(`ssh true: ${new TextDecoder().decode(out.stderr)}`);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { name, sshd, legacy, shellMs: times[2] };
}

const sshOptions = [
  "-q",
  "-o",
  "StrictHostKeyChecking=no",
  "-o",
  "UserKnownHostsFile=/dev/null",
  "-o",
  "BatchMode=yes",
  "-i",
  key.privateKeyPath,
];

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

async function openssh(sshd: SshdHandle, args: string[]): Promise<void> {
  const out = await new Deno.Command("scp", {
    args: [...sshOptions, "-P", String(sshd.port), ...args],
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`scp: ${new TextDecoder().decode(out.stderr)}`);
}

async function kiln(
  sshd: SshdHandle,
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

/**
 * Times each tool `runs` times, round-robin (run 1 of every tool, then run 2,
 * ...), so a burst of load on a shared machine falls on all tools alike
 * rather than on whichever happened to run then; returns each one's median.
 */
async function medians(
  tools: { tool: string; fn: () => Promise<void> }[],
  prepare: () => Promise<void>,
): Promise<number[]> {
  const times: number[][] = tools.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (const [k, { fn }] of tools.entries()) {
      await prepare();
      const t = performance.now();
      await fn();
      times[k].push(performance.now() - t);
    }
  }
  return tools.map(({ tool }, k) => {
    const sorted = times[k].toSorted((a, b) => a - b);
    console.error(`    ${tool}: ${sorted.map((t) => t.toFixed(0)).join(", ")} ms`);
    return sorted[Math.floor(sorted.length / 2)];
  });
}

const { big, tree, treeBytes } = await makeInputs();
const out = `${dir}/out`;
const reset = async () => {
  await Deno.remove(out, { recursive: true }).catch(() => {});
  await Deno.mkdir(out);
};

const hosts = [
  await startHost("plain", {}),
  await startHost("slow shell", { SHLVL: "0" }),
];

const rows: { case: string; host: string; tool: string; ms: number; mibs: number }[] = [];
const bigBytes = sizeMib << 20;

/** The tools, each a way to send `src` (a file, or with `-r` a tree) to `out` on `host`. */
function tools(host: Host, kind: "file" | "tree") {
  const at = (sshd: SshdHandle) => `${sshd.user}@127.0.0.1:${out}/${kind === "file" ? "big" : ""}`;
  const r = kind === "tree" ? ["-r"] : [];
  const src = kind === "file" ? big : tree;
  const viaKiln = (sshd: SshdHandle, method: "scp" | "sftp") => () =>
    kiln(sshd, method, async (c) => {
      if (kind === "tree") return await c.uploadDir(out, tree);
      const f = await Deno.open(big, { read: true });
      await c.upload(`${out}/big`, f.readable, { size: bigBytes });
    });
  return [
    { tool: "openssh scp", fn: () => openssh(host.sshd, [...r, src, at(host.sshd)]) },
    {
      tool: "openssh scp -O",
      fn: () => openssh(host.sshd, ["-O", ...r, src, at(host.sshd)]),
    },
    { tool: "kiln scp", fn: viaKiln(host.sshd, "scp") },
    { tool: "kiln scp (legacy)", fn: viaKiln(host.legacy, "scp") },
    { tool: "kiln sftp", fn: viaKiln(host.sshd, "sftp") },
  ];
}

for (const host of hosts) {
  console.error(
    `host "${host.name}": ssh host true: ~${host.shellMs.toFixed(0)} ms`,
  );
  for (const kind of ["file", "tree"] as const) {
    console.error(`  ${kind === "file" ? `${sizeMib} MiB file` : `${fileCount} small files`}:`);
    const list = tools(host, kind);
    const ms = await medians(list, reset);
    const bytes = kind === "file" ? bigBytes : treeBytes;
    for (const [k, { tool }] of list.entries()) {
      rows.push({
        case: kind,
        host: host.name,
        tool,
        ms: ms[k],
        mibs: bytes / (1 << 20) / (ms[k] / 1000),
      });
    }
  }
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
    await kiln(hosts[0].sshd, method, async (c) => {
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

for (const host of hosts) {
  for (const sshd of [host.sshd, host.legacy]) {
    await sshd.stop();
    await Deno.remove(sshd.dir, { recursive: true });
  }
}
await Deno.remove(dir, { recursive: true });

console.log(`\nSSH upload, loopback sshd, median of ${runs} (connect + transfer + close)\n`);
console.log(
  hosts.map((h) => `host "${h.name}": ssh host true ~${h.shellMs.toFixed(0)} ms`)
    .join("; ") + "\n",
);
console.log("| case | host | tool | wall ms | MiB/s | ratio vs openssh scp |");
console.log("|---|---|---|---:|---:|---:|");
for (const r of rows) {
  const base = rows.find((x) =>
    x.case === r.case && x.host === r.host && x.tool === "openssh scp"
  )!;
  const label = r.case === "file" ? `${sizeMib} MiB file` : `${fileCount} files`;
  console.log(
    `| ${label} | ${r.host} | ${r.tool} | ${r.ms.toFixed(0)} | ${r.mibs.toFixed(1)} | ${
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
