/**
 * The qemu options as the qemu steps read them, and the values some of them
 * allow. The builder (a floor above) decodes and checks the options and
 * hands the steps this typed view (builders/qemu/config.ts).
 */

/** Accelerators Packer accepts. */
export const ACCELERATORS = ["none", "kvm", "tcg", "xen", "hax", "hvf", "whpx"] as const;
/** Disk interfaces (current docs; Packer 1.6.6 lacked sata and sd). */
export const DISK_INTERFACES = ["ide", "sata", "scsi", "sd", "virtio", "virtio-scsi"] as const;
/** Disk cache modes. */
export const DISK_CACHES = ["writethrough", "writeback", "none", "unsafe", "directsync"] as const;
/** Disk discard modes. */
export const DISK_DISCARDS = ["unmap", "ignore"] as const;
/** Detect-zeroes modes. */
export const DETECT_ZEROES = ["unmap", "on", "off"] as const;

/**
 * A prepared qemu build's options, named as in the template. Every default
 * is applied (`vm_name`, `output_directory`, `qmp_socket_path`, ...),
 * durations are milliseconds, `iso_url` is folded into `iso_urls`.
 * `boot_command`, `boot_steps` and `qemuargs` hold raw template text: the
 * steps render them with `{{ .HTTPIP }}`, `{{ .HTTPPort }}`, `{{ .Name }}`...
 */
export interface QemuConfig {
  // Source
  iso_urls: string[];
  /** "none", "type:hex", bare hex, or "file:<path or URL>" as written. */
  iso_checksum: string;
  iso_target_path?: string;
  /** Lowercase; default "iso". */
  iso_target_extension: string;
  iso_skip_cache: boolean;
  disk_image: boolean;
  use_backing_file: boolean;
  // Disk and output
  /** For qemu-img: digits and a unit ("40960M", "10G"); plain numbers got "M". */
  disk_size: string;
  disk_additional_size: string[];
  skip_resize_disk: boolean;
  disk_interface: (typeof DISK_INTERFACES)[number];
  disk_cache: (typeof DISK_CACHES)[number];
  disk_discard: (typeof DISK_DISCARDS)[number];
  disk_detect_zeroes: (typeof DETECT_ZEROES)[number];
  /** True when the format is raw or a backing file is used (Packer forces it). */
  skip_compaction: boolean;
  disk_compression: boolean;
  format: "qcow2" | "raw";
  qemu_img_args: { convert: string[]; create: string[]; resize: string[] };
  output_directory: string;
  vm_name: string;
  // Machine
  /** Undefined: kvm if it really works here, else tcg (probed at run time). */
  accelerator?: (typeof ACCELERATORS)[number];
  qemu_binary: string;
  machine_type: string;
  cpu_model?: string;
  /** Megabytes. */
  memory: number;
  cpus: number;
  sockets: number;
  cores: number;
  threads: number;
  firmware?: string;
  use_pflash: boolean;
  efi_boot: boolean;
  efi_firmware_code?: string;
  efi_firmware_vars?: string;
  efi_drop_efivars: boolean;
  vtpm: boolean;
  use_tpm1: boolean;
  tpm_device_type: string;
  net_device: string;
  net_bridge?: string;
  cdrom_interface?: string;
  qemuargs: string[][];
  // Control and display
  qmp_enable: boolean;
  /** Set whenever qmp_enable is (default <output_directory>/<vm_name>.monitor). */
  qmp_socket_path?: string;
  headless: boolean;
  display?: string;
  use_default_display: boolean;
  vga?: string;
  vnc_bind_address: string;
  vnc_port_min: number;
  vnc_port_max: number;
  vnc_use_password: boolean;
  vnc_password?: string;
  disable_vnc: boolean;
  // Boot and shutdown (milliseconds)
  /** Default 10000; negative means no wait. */
  boot_wait: number;
  boot_command: string[];
  boot_steps: string[][];
  boot_key_interval?: number;
  boot_keygroup_interval?: number;
  shutdown_command?: string;
  shutdown_timeout: number;
  // HTTP server
  http_directory?: string;
  http_content: Record<string, string>;
  http_port_min: number;
  http_port_max: number;
  http_bind_address: string;
  http_interface?: string;
  http_network_protocol: string;
  // Floppy and CD
  floppy_files: string[];
  floppy_dirs: string[];
  floppy_content: Record<string, string>;
  floppy_label?: string;
  cd_files: string[];
  cd_content: Record<string, string>;
  cd_label?: string;
  // Communicator and its port forward
  communicator: "ssh" | "winrm" | "none";
  host_port_min: number;
  host_port_max: number;
  skip_nat_mapping: boolean;
  /** Every other communicator option (ssh_*, winrm_*), as communicators/config.ts decodes them. */
  [communicatorOption: string]: unknown;

  // Derived facts (not options)
  /** `disk_size` in bytes. */
  diskSizeBytes: number;
  /** Packer's `-smp` value from cpus, sockets, cores and threads. */
  smp: string;
}
