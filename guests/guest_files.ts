/** What every cached guest provides. */

/** Paths and facts of a cached guest. */
export interface GuestFiles {
  /** The cache entry's directory. */
  dir: string;
  /** Whether this call found the guest already built. */
  fromCache: boolean;
  /** Seconds this call took (the build, or only the cache check). */
  secondsToObtain: number;
  kernel: string;
  initrd: string;
  /** Kernel arguments a direct kernel boot needs (serial console and, for disks, the root). */
  kernelArgs: string;
  /** The bootable disk as raw and as qcow2. */
  rawDisk: string;
  qcow2Disk: string;
}
