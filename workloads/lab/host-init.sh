#!/usr/bin/busybox sh
# SPDX-License-Identifier: GPL-3.0-or-later
# /init of the lab's riscv64 KVM host (L1). Runs from the initramfs as PID 1.
# Order matters for boot time under TCG: KVM and the network first, then libvirtd and SSH,
# then the modules nothing waits for.
bb=/usr/bin/busybox
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=vt100
$bb mount -t proc proc /proc
$bb mount -t sysfs sysfs /sys
$bb mount -t devtmpfs devtmpfs /dev
$bb mkdir -p /dev/pts /dev/shm
$bb mount -t devpts -o gid=5,mode=620 devpts /dev/pts
$bb mount -t tmpfs -o mode=1777 tmpfs /dev/shm
$bb mount -t tmpfs -o mode=755 tmpfs /run
$bb mkdir -p /run/lock /run/libvirt /sys/kernel/debug
$bb mount -t debugfs debugfs /sys/kernel/debug
$bb mount -t cgroup2 cgroup2 /sys/fs/cgroup
$bb hostname rvbench-lab
echo "rvbench-lab: init reached at $($bb cut -d' ' -f1 /proc/uptime) s"

modprobe -a kvm virtio_net || echo "rvbench-lab: kvm or virtio_net did not load"
# Every cgroup controller for libvirt's machine groups.
for c in $($bb cat /sys/fs/cgroup/cgroup.controllers); do
    echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
done
$bb ip link set lo up
$bb ip link set eth0 up
$bb ip addr add 10.0.2.15/24 dev eth0
$bb ip route add default via 10.0.2.2

# Fixed change times for libvirtd, its drivers and QEMU: libvirt keeps its QEMU capabilities
# cache only while these ctimes match, and the kernel's initramfs unpacking gives them
# whatever the clock said at that moment. With fixed ctimes, a cache captured on an earlier
# boot (`lab up` adds it to the initramfs) spares the 10 s capabilities probe under TCG.
now=$($bb date +%s)
$bb date -s @1000000000 >/dev/null
for f in /usr/sbin/libvirtd /usr/bin/qemu-system-riscv64 /usr/lib/riscv64-linux-gnu/libvirt/connection-driver/*.so; do
    [ -e "$f" ] && $bb chmod "$($bb stat -c %a "$f")" "$f"
done
$bb date -s @"$now" >/dev/null

libvirtd --listen -d
virtlogd -d &
dropbear -R -E -p 22 2>/var/log/dropbear.log &
wait
echo "rvbench-lab: services started at $($bb cut -d' ' -f1 /proc/uptime) s"

# The workload disk (read-only), then what only some variants use.
modprobe -a virtio_blk ext4 || echo "rvbench-lab: virtio_blk or ext4 did not load"
for dev in /dev/vda /dev/vdb; do
    if [ -b "$dev" ]; then
        $bb mount -t ext4 -o ro "$dev" /opt/rvbench-root && echo "rvbench-lab: workload disk $dev mounted" && break
    fi
done
for m in tun bridge vhost_net vhost_iotlb vdpa vhost_vdpa; do
    modprobe "$m" 2>/dev/null || echo "rvbench-lab: module $m not available"
done
# The vDPA simulators: built out of tree for Debian's kernel (/usr/lib/rvbench/vdpa), modules of the
# lab's own kernel. One simulated block device behind vhost-vdpa: /dev/vhost-vdpa-0.
for m in vringh vdpa_sim vdpa_sim_blk; do
    if [ -e "/usr/lib/rvbench/vdpa/$m.ko" ]; then
        insmod "/usr/lib/rvbench/vdpa/$m.ko" 2>/dev/null || echo "rvbench-lab: module $m did not load"
    else
        modprobe "$m" 2>/dev/null || echo "rvbench-lab: module $m not available"
    fi
done
if vdpa dev add mgmtdev vdpasim_blk name vdpa-blk0 2>/dev/null; then
    echo "rvbench-lab: vdpa device vdpa-blk0 (vdpa_sim_blk) $($bb ls /dev/vhost-vdpa-* 2>/dev/null | $bb tr '\n' ' ')"
fi
# L0's virtio-blk-pci at 00:11.0 (QEMU 10 with the own kernel): bound to vp_vdpa, a vDPA datapath over PCI.
vp=0000:00:11.0
if [ -e /sys/bus/pci/devices/$vp ] && modprobe vp_vdpa 2>/dev/null; then
    echo vp-vdpa > /sys/bus/pci/devices/$vp/driver_override
    [ -e /sys/bus/pci/devices/$vp/driver ] && echo $vp > /sys/bus/pci/devices/$vp/driver/unbind
    echo $vp > /sys/bus/pci/drivers_probe
    if vdpa dev add mgmtdev pci/$vp name vdpa-pci0; then
        echo "rvbench-lab: vdpa device vdpa-pci0 (vp_vdpa $vp)"
    else
        echo "rvbench-lab: vp_vdpa: vdpa dev add on $vp failed"
    fi
fi
# The NVMe controller (00:10.0) stays with the nvme driver; the passthrough variant rebinds it to vfio-pci.
[ -e /sys/class/nvme/nvme0/serial ] && echo "rvbench-lab: nvme0 serial $($bb cat /sys/class/nvme/nvme0/serial) at $($bb basename "$($bb readlink /sys/class/nvme/nvme0/device)")"

echo "rvbench-lab: ready kernel=$($bb uname -r) kvm=$([ -c /dev/kvm ] && echo yes || echo no) uptime=$($bb cut -d' ' -f1 /proc/uptime)"
# PID 1 never exits; it reaps orphans while it waits.
while :; do $bb sleep 3600; done
