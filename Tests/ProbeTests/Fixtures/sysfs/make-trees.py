#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes the small sysfs/procfs trees that rvbench-probe reads with --root in the tests.

The trees are hand-made: they follow the layout of a riscv64 host (QEMU virt machine with
riscv-iommu-pci and aplic-imsic) but no file was copied from a real machine. Run it from this
directory to regenerate them:  python3 make-trees.py
"""
import os
import shutil

RELEASE = "6.12.48+deb13-riscv64"
ISA_FULL = ("rv64imafdch_zicbom_zicboz_zicntr_zicsr_zifencei_zihintpause_zihpm_zba_zbb_zbc_zbs_"
            "smaia_ssaia_sscofpmf_sstc_svadu")
ISA_PLAIN = "rv64imafdch_zicbom_zicboz_zicntr_zicsr_zifencei_zihintpause_zihpm_zba_zbb_zbc_zbs_sstc"


def write(root, path, text):
    full = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(text)


def mkdir(root, path):
    os.makedirs(os.path.join(root, path.lstrip("/")), exist_ok=True)


def link(root, path, target):
    full = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    os.symlink(target, full)


def cpuinfo(isa, harts=2):
    out = []
    for h in range(harts):
        out.append(f"processor\t: {h}\nhart\t\t: {h}\nisa\t\t: {isa}\nmmu\t\t: sv57\n"
                   f"mvendorid\t: 0x0\nmarchid\t\t: 0x0\nmimpid\t\t: 0x0\nhart isa\t: {isa}\n\n")
    return "".join(out)


def base(root, isa, aia=True, kvm=True):
    write(root, "/proc/sys/kernel/arch", "riscv64\n")
    write(root, "/proc/sys/kernel/osrelease", RELEASE + "\n")
    write(root, "/proc/sys/kernel/perf_event_paranoid", "2\n")
    write(root, "/proc/cpuinfo", cpuinfo(isa))
    write(root, "/proc/meminfo", "MemTotal:        4012345 kB\nMemFree:         3000000 kB\n")
    write(root, "/sys/devices/system/cpu/online", "0-1\n")
    if kvm:
        write(root, "/dev/kvm", "")
        mkdir(root, "/sys/module/kvm")
        write(root, "/sys/module/kvm/initstate", "live\n")
    if aia:
        write(root, "/proc/interrupts",
              "           CPU0       CPU1\n"
              " 10:        120         98  RISC-V INTC   5 Edge      riscv-timer\n"
              " 12:          0          0  APLIC-MSI-d000000  10 Level     ttyS0\n"
              " 13:         17          0  IMSIC-PCI-MSIX-0000:00:03.0   0 Edge      nvme0q0\n"
              " 14:          3         40  IMSIC-PCI-MSIX-0000:00:03.0   1 Edge      nvme0q1\n"
              "IPI0:        12         15  Rescheduling interrupts\n")
        write(root, "/sys/firmware/devicetree/base/soc/imsics@28000000/compatible",
              "qemu,imsics\0riscv,imsics\0")
        write(root, "/sys/firmware/devicetree/base/soc/aplic@d000000/compatible",
              "qemu,aplic\0riscv,aplic\0")
    else:
        write(root, "/proc/interrupts",
              "           CPU0       CPU1\n"
              " 10:        120         98  RISC-V INTC   5 Edge      riscv-timer\n"
              " 11:         40          0  SiFive PLIC  10 Edge      ttyS0\n")
        write(root, "/sys/firmware/devicetree/base/soc/plic@c000000/compatible",
              "sifive,plic-1.0.0\0riscv,plic0\0")
    dep = "\n".join([
        "kernel/arch/riscv/kvm/kvm.ko.xz:",
        "kernel/drivers/vfio/vfio.ko.xz: kernel/drivers/iommu/iommufd/iommufd.ko.xz",
        "kernel/drivers/vfio/pci/vfio-pci.ko.xz: kernel/drivers/vfio/pci/vfio-pci-core.ko.xz",
        "kernel/drivers/vfio/pci/vfio-pci-core.ko.xz: kernel/drivers/vfio/vfio.ko.xz",
        "kernel/drivers/iommu/iommufd/iommufd.ko.xz:",
        "kernel/drivers/vhost/vhost_vdpa.ko.xz: kernel/drivers/vhost/vhost.ko.xz kernel/drivers/vdpa/vdpa.ko.xz",
        "kernel/drivers/vdpa/vdpa.ko.xz:",
        "kernel/drivers/vdpa/vdpa_sim/vdpa_sim.ko.xz: kernel/drivers/vdpa/vdpa.ko.xz",
        "kernel/drivers/vdpa/vdpa_sim/vdpa_sim_blk.ko.xz: kernel/drivers/vdpa/vdpa_sim/vdpa_sim.ko.xz",
        ""])
    write(root, f"/lib/modules/{RELEASE}/modules.dep", dep)
    write(root, f"/lib/modules/{RELEASE}/modules.builtin", "kernel/drivers/iommu/riscv/iommu-riscv.ko\n")
    for drv in ["virtio-pci", "nvme", "pcieport"]:
        mkdir(root, f"/sys/bus/pci/drivers/{drv}")


def pci(root, addr, vendor, device, cls, driver=None, group=None):
    dev = f"/sys/devices/pci0000:00/{addr}"
    write(root, f"{dev}/vendor", f"0x{vendor}\n")
    write(root, f"{dev}/device", f"0x{device}\n")
    write(root, f"{dev}/class", f"0x{cls}\n")
    if driver:
        link(root, f"{dev}/driver", f"../../../bus/pci/drivers/{driver}")
    link(root, f"/sys/bus/pci/devices/{addr}", f"../../../devices/pci0000:00/{addr}")
    if group is not None:
        mkdir(root, f"/sys/kernel/iommu_groups/{group}/devices")
        write(root, f"/sys/kernel/iommu_groups/{group}/type", "DMA\n")
        link(root, f"{dev}/iommu_group", f"../../../kernel/iommu_groups/{group}")
        link(root, f"/sys/kernel/iommu_groups/{group}/devices/{addr}",
             f"../../../../devices/pci0000:00/{addr}")


def vfio(root, type1=True):
    write(root, "/dev/vfio/vfio", "")
    write(root, "/dev/iommu", "")
    mkdir(root, "/sys/bus/pci/drivers/vfio-pci")
    for m in ["vfio", "vfio_pci", "iommufd"] + (["vfio_iommu_type1"] if type1 else []):
        write(root, f"/sys/module/{m}/initstate", "live\n")


def iommu_unit(root):
    mkdir(root, "/sys/devices/pci0000:00/0000:00:01.0/iommu/riscv-iommu.0")
    link(root, "/sys/class/iommu/riscv-iommu.0", "../../devices/pci0000:00/0000:00:01.0/iommu/riscv-iommu.0")


def kvm_debugfs(root):
    d = "/sys/kernel/debug/kvm"
    for name, v in [("exits", 48213), ("mmio_exit_user", 1520), ("mmio_exit_kernel", 9311),
                    ("csr_exit_user", 0), ("csr_exit_kernel", 211), ("wfi_exit_stat", 3022),
                    ("ecall_exit_stat", 6120), ("instr_illegal_exits", 0), ("signal_exits", 4)]:
        write(root, f"{d}/{name}", f"{v}\n")
    for name, v in [("exits", 48213), ("mmio_exit_user", 1520), ("wfi_exit_stat", 3022)]:
        write(root, f"{d}/1234-12/{name}", f"{v}\n")
    mkdir(root, f"{d}/1234-12/vcpu0")
    write(root, f"{d}/halt_poll_hist", "0 0 1\n")  # not a single counter: reported as unreadable


def host_can(root):
    base(root, ISA_FULL)
    iommu_unit(root)
    vfio(root)
    kvm_debugfs(root)
    pci(root, "0000:00:00.0", "1b36", "0008", "060000", None, 0)         # host bridge, unbound
    pci(root, "0000:00:01.0", "1efd", "edf1", "080600", None, None)      # riscv-iommu-pci itself
    pci(root, "0000:00:02.0", "1af4", "1041", "020000", "virtio-pci", 1)  # virtio-net
    pci(root, "0000:00:03.0", "1b36", "0010", "010802", "vfio-pci", 2)    # NVMe for the guest
    mkdir(root, "/sys/bus/vdpa/devices/vdpa0")
    mkdir(root, "/sys/bus/vdpa/drivers/vhost_vdpa")
    write(root, "/dev/vhost-vdpa-0", "")
    mkdir(root, "/sys/devices/vdpasim_blk")
    for m in ["vdpa", "vhost_vdpa", "vdpa_sim", "vdpa_sim_blk"]:
        write(root, f"/sys/module/{m}/initstate", "live\n")


def host_no_iommu(root):
    base(root, ISA_PLAIN, aia=False)
    pci(root, "0000:00:00.0", "1b36", "0008", "060000")
    pci(root, "0000:00:02.0", "1af4", "1041", "020000", "virtio-pci")
    pci(root, "0000:00:03.0", "1b36", "0010", "010802", "nvme")


def host_non_viable(root):
    base(root, ISA_FULL)
    iommu_unit(root)
    vfio(root)
    pci(root, "0000:00:00.0", "1b36", "0008", "060000", None, 0)
    pci(root, "0000:00:02.0", "1af4", "1041", "020000", "virtio-pci", 1)
    pci(root, "0000:00:03.0", "1b36", "0010", "010802", "vfio-pci", 2)
    pci(root, "0000:00:04.0", "1b36", "0010", "010802", "nvme", 2)       # same group, host driver


def host_wrong_driver(root):
    base(root, ISA_FULL)
    iommu_unit(root)
    vfio(root, type1=False)  # iommufd only
    pci(root, "0000:00:00.0", "1b36", "0008", "060000", None, 0)
    pci(root, "0000:00:02.0", "1af4", "1041", "020000", "virtio-pci", 1)
    pci(root, "0000:00:03.0", "1b36", "0010", "010802", "nvme", 2)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    for name, fn in [("host-can", host_can), ("no-iommu", host_no_iommu),
                     ("non-viable-group", host_non_viable), ("wrong-driver", host_wrong_driver)]:
        root = os.path.join(here, name)
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(root)
        fn(root)


if __name__ == "__main__":
    main()
