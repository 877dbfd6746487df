/**
 * Tiny qemu templates whose command lines Packer 1.6.6 recorded (see
 * record_packer_argv.ts): each covers a group of options that shape qemu's
 * argv. `$DIR` is the working directory of the recording, `$FAKE_QEMU` a
 * stand-in qemu that writes down its argv and exits.
 */

/** One case: a name and the builder's settings. */
export interface ArgvCase {
  name: string;
  builder: Record<string, unknown>;
}

const base = {
  type: "qemu",
  qemu_binary: "$FAKE_QEMU",
  iso_url: "$DIR/fake.iso",
  iso_checksum: "none",
  disk_size: "16M",
};

/** The cases, recorded and replayed in this order. */
export const argvCases: ArgvCase[] = [
  {
    name: "defaults",
    builder: { ...base, communicator: "none", headless: true },
  },
  {
    name: "ssh_gui_q35_raw_ide",
    builder: {
      ...base,
      communicator: "ssh",
      ssh_username: "kiln",
      ssh_timeout: "1s",
      host_port_min: 2222,
      host_port_max: 2229,
      headless: false,
      cpus: 2,
      memory: 1024,
      machine_type: "q35",
      accelerator: "tcg",
      net_device: "e1000",
      disk_interface: "ide",
      disk_cache: "none",
      disk_discard: "unmap",
      disk_detect_zeroes: "unmap",
      format: "raw",
      vm_name: "box.img",
      output_directory: "out-b",
      vnc_port_min: 5990,
      vnc_port_max: 5999,
    },
  },
  {
    name: "display_none_vnc_password_qmp",
    builder: {
      ...base,
      communicator: "none",
      headless: false,
      display: "none",
      vnc_use_password: true,
      qmp_socket_path: "$DIR/q.sock",
    },
  },
  {
    name: "display_sdl_winrm_cpus4",
    builder: {
      ...base,
      communicator: "winrm",
      winrm_username: "kiln",
      winrm_timeout: "1s",
      headless: false,
      display: "sdl",
      cpus: 4,
    },
  },
  {
    name: "virtio_scsi_disks_and_cds",
    builder: {
      ...base,
      communicator: "none",
      headless: true,
      disk_interface: "virtio-scsi",
      disk_additional_size: ["8M", "4M"],
      cdrom_interface: "virtio-scsi",
      cd_files: ["$DIR/cdfile.txt"],
      disk_detect_zeroes: "on",
    },
  },
  {
    name: "ide_cdrom_floppy_no_accel_default_display",
    builder: {
      ...base,
      communicator: "none",
      headless: false,
      use_default_display: true,
      cdrom_interface: "ide",
      floppy_files: ["$DIR/floppy.txt"],
      accelerator: "none",
    },
  },
  {
    // use_backing_file cannot be recorded: 1.6.6 runs `qemu-img create -b` without `-F`,
    // which qemu-img 7.2 refuses ("Backing file specified without backing format").
    name: "disk_image",
    builder: {
      ...base,
      iso_url: "$DIR/base.qcow2",
      communicator: "none",
      headless: true,
      disk_image: true,
      disk_size: "64M",
    },
  },
  {
    name: "qemuargs_override",
    builder: {
      ...base,
      communicator: "none",
      headless: true,
      net_device: "e1000",
      qemuargs: [
        ["-m", "1024M"],
        ["--no-acpi", ""],
        ["-netdev", "user,id=mynet0,", "hostfwd=tcp::2222-:22", ""],
        ["-device", "virtio-net,netdev=mynet0"],
        ["-drive", "file=a.img,if=virtio"],
        ["-drive", "file=b.img,if=virtio"],
        ["-serial", "file:serial.log"],
      ],
    },
  },
  {
    name: "qemuargs_device_keeps_net_device",
    builder: {
      ...base,
      communicator: "none",
      headless: true,
      qemuargs: [
        ["-device", "virtio-net,netdev=user.0"],
        ["-device", "virtio-rng-pci"],
        ["-smp", "2"],
        ["-boot", ""],
        ["-machine", "type=q35,", "accel=hvf:kvm:whpx:tcg"],
      ],
    },
  },
  {
    // net_bridge cannot be recorded: Packer looks the bridge up before it starts qemu.
    name: "small_memory_one_cpu",
    builder: {
      ...base,
      communicator: "none",
      headless: true,
      memory: 5,
      cpus: 1,
    },
  },
];
