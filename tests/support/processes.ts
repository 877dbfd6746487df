/** Whether local processes are still there (Linux /proc). */

/** True while `pid` is a live process (a zombie counts as gone). */
export async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Whether `pid` is gone within `ms` (signal delivery is asynchronous). */
export async function goneWithin(pid: number, ms = 5_000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (!await alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return !await alive(pid);
}
