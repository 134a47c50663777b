#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Makes a Debian root unpacked by `mmdebstrap --variant=extract` usable without running
# any maintainer script, and prunes what the lab never uses.
#
#   fixup-root.sh host|workload DIR
#
# Runs on the controller (any architecture): it only writes files and links.
set -eu
kind=$1
root=$2
[ -d "$root/usr" ] || { echo "fixup-root: $root is not an unpacked root" >&2; exit 2; }

# Merged /usr (trixie's packages already ship under /usr; make sure the links exist).
for d in bin sbin lib; do
    [ -e "$root/$d" ] || ln -s "usr/$d" "$root/$d"
done
mkdir -p "$root/proc" "$root/sys" "$root/dev" "$root/run" "$root/tmp" "$root/root" "$root/var/tmp" \
         "$root/var/log" "$root/mnt" "$root/opt"
chmod 1777 "$root/tmp" "$root/var/tmp"

# A shell for scripts and logins: busybox-static stands in where dash is absent.
[ -e "$root/usr/bin/sh" ] || ln -s busybox "$root/usr/bin/sh"

# Accounts (no maintainer script ran, so adduser never did).
cat > "$root/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
libvirt-qemu:x:64055:994:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin
dnsmasq:x:100:65534:dnsmasq:/var/lib/misc:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
PW
cat > "$root/etc/group" <<'GR'
root:x:0:
daemon:x:1:
tty:x:5:
disk:x:6:
kmem:x:15:
kvm:x:993:libvirt-qemu
libvirt-qemu:x:994:
libvirt:x:995:
nogroup:x:65534:
GR
cat > "$root/etc/shadow" <<'SH'
root:*:20000:0:99999:7:::
SH
chmod 600 "$root/etc/shadow"
echo "/bin/sh" > "$root/etc/shells"
echo "rvbench-lab" > "$root/etc/hostname"
printf '127.0.0.1 localhost\n10.0.2.15 rvbench-lab\n' > "$root/etc/hosts"
: > "$root/etc/resolv.conf"
[ -e "$root/etc/mtab" ] || ln -s ../proc/self/mounts "$root/etc/mtab"

# Alternatives: point each generic name at the first candidate that exists.
multi=usr/lib/riscv64-linux-gnu
for pair in libblas.so.3:blas/libblas.so.3 liblapack.so.3:lapack/liblapack.so.3 \
            libblas.so:blas/libblas.so liblapack.so:lapack/liblapack.so; do
    name=${pair%%:*}; target=${pair#*:}
    if [ ! -e "$root/$multi/$name" ] && [ -e "$root/$multi/$target" ]; then
        ln -sf "$target" "$root/$multi/$name"
    fi
done

# Prune documentation, locales and other bulk nothing in the lab reads.
rm -rf "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/info" "$root/usr/share/locale" \
       "$root/usr/share/lintian" "$root/usr/share/bash-completion" "$root/usr/share/zsh" \
       "$root/usr/share/fish" "$root/var/cache/apt" "$root/var/lib/apt/lists" "$root/usr/share/gitweb"
mkdir -p "$root/var/cache/apt/archives" "$root/var/lib/apt/lists"

if [ "$kind" = host ]; then
    # Only the riscv64 system emulator: libvirt probes every qemu-system-* binary it finds.
    for f in "$root"/usr/bin/qemu-system-*; do
        [ "${f##*/}" = qemu-system-riscv64 ] || rm -f "$f"
    done
    rm -rf "$root/usr/lib/riscv32-linux-gnu"
    # Script runtimes that only perf's scripting uses (perf itself only links their libraries),
    # udev's hardware database and systemd units (no udev or systemd runs in L1).
    rm -rf "$root/usr/share/perl" "$root/usr/lib/riscv64-linux-gnu/perl" "$root/usr/lib/python3.13" \
           "$root/usr/lib/python3" "$root/usr/lib/udev/hwdb.bin" "$root/usr/lib/udev/hwdb.d" \
           "$root/usr/lib/systemd/system" "$root/usr/lib/systemd/user"
    # Firmware of other emulated machines.
    for f in "$root"/usr/share/qemu/*; do
        case "${f##*/}" in
            opensbi*|efi-virtio.rom|efi-e1000*.rom|vgabios-virtio.bin|vgabios-stdvga.bin|keymaps|firmware|edk2-riscv*) ;;
            *) rm -rf "$f" ;;
        esac
    done
    # qemu-block-extra: keep blkio (vhost-vdpa disks), drop the network block backends and the
    # libraries only they link (gluster, Ceph rbd, iSCSI, NFS).
    rm -f "$root"/usr/lib/riscv64-linux-gnu/qemu/block-gluster.so "$root"/usr/lib/riscv64-linux-gnu/qemu/block-rbd.so \
          "$root"/usr/lib/riscv64-linux-gnu/qemu/block-iscsi.so "$root"/usr/lib/riscv64-linux-gnu/qemu/block-nfs.so
    rm -rf "$root"/usr/lib/riscv64-linux-gnu/libgfapi.so* "$root"/usr/lib/riscv64-linux-gnu/libglusterfs.so* \
           "$root"/usr/lib/riscv64-linux-gnu/libgfrpc.so* "$root"/usr/lib/riscv64-linux-gnu/libgfxdr.so* \
           "$root"/usr/lib/riscv64-linux-gnu/glusterfs "$root"/usr/lib/riscv64-linux-gnu/librbd.so* \
           "$root"/usr/lib/riscv64-linux-gnu/librados.so* "$root"/usr/lib/riscv64-linux-gnu/ceph \
           "$root"/usr/lib/riscv64-linux-gnu/libiscsi.so* "$root"/usr/lib/riscv64-linux-gnu/libnfs.so* \
           "$root"/usr/lib/riscv64-linux-gnu/libboost_iostreams.so* "$root"/usr/lib/riscv64-linux-gnu/libboost_thread.so* \
           "$root"/usr/lib/riscv64-linux-gnu/libfmt.so*
    # VFIO type1 on riscv: the RISC-V IOMMU (v1.0) gives no MSI isolation, so type1 refuses to attach a
    # group unless unsafe interrupts are allowed. The lab allows them; reports say so.
    mkdir -p "$root/etc/modprobe.d"
    echo "options vfio_iommu_type1 allow_unsafe_interrupts=1" > "$root/etc/modprobe.d/rvbench-vfio.conf"
    # Firmware blobs for other machines, and ROMs nothing boots.
    rm -rf "$root/usr/lib/firmware"
    # Modules for hardware an emulated virt machine does not have.
    for kdir in "$root"/usr/lib/modules/*/kernel; do
        rm -rf "$kdir/sound" "$kdir/drivers/gpu" "$kdir/drivers/media" "$kdir/drivers/net/wireless" \
               "$kdir/drivers/infiniband" "$kdir/drivers/staging" "$kdir/drivers/bluetooth" \
               "$kdir/drivers/iio" "$kdir/drivers/hid" "$kdir/drivers/usb" "$kdir/drivers/input" \
               "$kdir/drivers/isdn" "$kdir/drivers/mmc" "$kdir/drivers/mtd" "$kdir/drivers/leds" \
               "$kdir/drivers/scsi" "$kdir/drivers/ata" "$kdir/drivers/hwmon" "$kdir/drivers/w1" \
               "$kdir/drivers/net/ethernet" "$kdir/drivers/net/can" "$kdir/drivers/nfc" \
               "$kdir/net/bluetooth" "$kdir/net/wireless" "$kdir/net/mac80211" "$kdir/fs/nls" \
               "$kdir/fs/ocfs2" "$kdir/fs/gfs2" "$kdir/fs/xfs" "$kdir/fs/btrfs"
    done

    # libvirt: root-run QEMU without relabelling, TCP listener for the lab network only.
    conf=$root/etc/libvirt
    cat >> "$conf/qemu.conf" <<'QC'

# rvbench lab
user = "root"
group = "root"
security_driver = "none"
dynamic_ownership = 0
remember_owner = 0
QC
    cat >> "$conf/libvirtd.conf" <<'LC'

# rvbench lab: reached only through QEMU's user network, forwarded to the controller's loopback.
listen_tls = 0
listen_tcp = 1
listen_addr = "10.0.2.15"
auth_tcp = "none"
LC
    # Do not start a default network (no dnsmasq here).
    rm -f "$conf/qemu/networks/autostart/"*.xml
    mkdir -p "$root/var/lib/libvirt/qemu" "$root/var/log/libvirt/qemu" "$root/var/cache/libvirt/qemu" \
             "$root/var/lib/rvbench" "$root/opt/rvbench-root" "$root/etc/dropbear" "$root/root/.ssh"
    chmod 700 "$root/root/.ssh"
fi
