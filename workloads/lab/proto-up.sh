#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Shell prototype of `rvbench lab up`: defines and starts L0 from prebuilt artifacts.
#   proto-up.sh KERNEL INITRD [DISK]
set -eu
kernel=$1 initrd=$2 disk=${3:-}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
p1=$(free_port) p2=$(free_port)
run=${RVBENCH_CACHE:-$HOME/.cache/rvbench}/lab/run
mkdir -p "$run"
diskxml=
[ -n "$disk" ] && diskxml="<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$disk'/><target dev='vda' bus='virtio'/><readonly/></disk>"
cat > "$run/l0.xml" <<XML
<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>rvbench-lab</name>
  <memory unit='MiB'>6144</memory>
  <vcpu>2</vcpu>
  <os>
    <type arch='riscv64' machine='virt'>hvm</type>
    <loader type='rom'>/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin</loader>
    <kernel>$kernel</kernel>
    <initrd>$initrd</initrd>
    <cmdline>console=ttyS0 rdinit=/init panic=1</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-riscv64</emulator>
    $diskxml
    <controller type='usb' model='none'/>
    <serial type='pty'><log file='$run/console.log' append='off'/><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <memballoon model='none'/>
  </devices>
  <seclabel type='static' model='dac' relabel='no'><label>+0:+0</label></seclabel>
  <qemu:commandline>
    <qemu:arg value='-cpu'/><qemu:arg value='rv64,h=true'/>
    <qemu:arg value='-netdev'/><qemu:arg value='user,id=n0,hostfwd=tcp:127.0.0.1:$p1-:16509,hostfwd=tcp:127.0.0.1:$p2-:22'/>
    <qemu:arg value='-device'/><qemu:arg value='virtio-net-pci,netdev=n0,bus=pcie.0,addr=0x1f'/>
  </qemu:commandline>
</domain>
XML
echo "$p1 $p2" > "$run/ports"
t0=$(date +%s.%N)
virsh -q -c qemu:///system create "$run/l0.xml"
until virsh -c "qemu+tcp://127.0.0.1:$p1/system" version >/dev/null 2>&1; do sleep 0.5; done
t1=$(date +%s.%N)
echo "libvirt ready after $(echo "$t1 - $t0" | bc) s: qemu+tcp://127.0.0.1:$p1/system ssh root@127.0.0.1 -p $p2"
