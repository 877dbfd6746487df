/**
 * The qemu builder's own options (beyond the shared ISO, HTTP, boot, floppy,
 * CD, shutdown and communicator ones), with Packer's names and types. Their
 * defaults are applied by Packer's rules in prepare.ts, because several depend
 * on other options or on the build's name.
 */
import type { FieldSpec } from "../../template/schema.ts";

const str = (doc: string): FieldSpec => ({ type: "string", doc });
const bool = (doc: string): FieldSpec => ({ type: "bool", doc });
const int = (doc: string): FieldSpec => ({ type: "int", doc });

/** Every qemu-specific option. */
export const qemuFields: Record<string, FieldSpec> = {
  // Source and disk
  iso_skip_cache: bool("boot the ISO from its URL (qemu's curl driver); implies iso_checksum none"),
  disk_image: bool("iso_url is a bootable disk image, copied (or backed) and resized"),
  use_backing_file: bool("with disk_image and qcow2: a new qcow2 backed by the source image"),
  disk_size: str('size of the disk: "40960M" (default), "10G", or a number of megabytes'),
  disk_additional_size: {
    type: "string_list",
    doc: "extra disks, qemu-img sizes; named <vm_name>-1, -2, ...",
  },
  skip_resize_disk: bool("with disk_image: do not resize the copied image to disk_size"),
  disk_interface: str("ide, sata, scsi, sd, virtio (default) or virtio-scsi"),
  disk_cache: str("writethrough, writeback (default), none, unsafe or directsync"),
  disk_discard: str("unmap or ignore (default)"),
  disk_detect_zeroes: str("unmap, on or off (default)"),
  skip_compaction: bool("do not compact the qcow2 output with qemu-img convert"),
  disk_compression: bool("compress the qcow2 output"),
  format: str("qcow2 (default) or raw"),
  qemu_img_args: {
    type: "object",
    doc: "extra qemu-img arguments for convert, create and resize",
    item: {
      fields: {
        convert: { type: "string_list" },
        create: { type: "string_list" },
        resize: { type: "string_list" },
      },
    },
  },
  output_directory: str("where the image is written (default output-<build name>)"),
  vm_name: str("the image's file name (default packer-<build name>)"),
  // Machine
  accelerator: str("kvm, tcg, hvf, whpx, xen, hax or none (default: kvm if usable, else tcg)"),
  qemu_binary: str("the emulator (default qemu-system-x86_64)"),
  machine_type: str("qemu -machine type (default pc)"),
  cpu_model: str("qemu -cpu model (default: none passed)"),
  memory: int("megabytes of RAM (default 512; below 10 means the default)"),
  cpus: int("virtual CPUs (default 1, or sockets*cores*threads)"),
  sockets: int("CPU sockets"),
  cores: int("cores per socket"),
  threads: int("threads per core"),
  firmware: str("firmware file (-bios, or a pflash drive with use_pflash)"),
  use_pflash: bool("load firmware as a pflash drive"),
  efi_boot: bool("boot with UEFI (OVMF); implied by efi_firmware_code/vars"),
  efi_firmware_code: str("OVMF code (default /usr/share/OVMF/OVMF_CODE.fd)"),
  efi_firmware_vars: str("OVMF vars template (default /usr/share/OVMF/OVMF_VARS.fd)"),
  efi_drop_efivars: bool("leave efivars.fd out of the artifact"),
  vtpm: bool("emulated TPM (swtpm)"),
  use_tpm1: bool("TPM 1.2 instead of 2.0"),
  tpm_device_type: str("tpm-tis (default), tpm-tis-device, tpm-spapr"),
  net_device: str("network device model (default virtio-net)"),
  net_bridge: str("bridge to join instead of user-mode networking (Linux; enables QMP)"),
  cdrom_interface: str("ide, scsi, virtio or virtio-scsi for the ISO's drive"),
  qemuargs: {
    type: "string_lists",
    late: true,
    doc: "extra qemu arguments, one switch per array; rendered at run time",
  },
  // Control and display
  qmp_enable: bool("open a QMP socket"),
  qmp_socket_path: str("QMP socket (default <output_directory>/<vm_name>.monitor)"),
  headless: bool("no display window"),
  display: str("qemu -display backend"),
  use_default_display: bool("pass no -display"),
  vga: str("qemu -vga card"),
  vnc_bind_address: str("VNC listen address (default 127.0.0.1)"),
  vnc_port_min: int("lowest VNC port (default 5900; not below 5900)"),
  vnc_port_max: int("highest VNC port (default 6000)"),
  vnc_use_password: bool("protect VNC with a random password (enables QMP)"),
  vnc_password: { type: "string", sensitive: true, doc: "the VNC password" },
  boot_steps: {
    type: "string_lists",
    late: true,
    doc: "[command, description] pairs typed in turn (instead of boot_command)",
  },
  run_once: bool("accepted for compatibility; unused"),
};
