// SPDX-License-Identifier: GPL-3.0-or-later
import RVBenchCore

/// Whether the host has a vhost-vdpa device that serves the data disk of the I/O workloads.
public enum VDPADataDiskState: Sendable, Equatable {
    /// The vDPA device `name` holds the data disk's bytes (checked by SHA-256 after a driver rebind) and is
    /// bound to vhost_vdpa as `device` (`/dev/vhost-vdpa-N`).
    case ready(name: String, device: String)
    /// No such device; the reason says what failed, with the host's error text.
    case unavailable(reason: String)
}

/// Finds the vhost-vdpa device that serves the data disk, over SSH, for the `vdpa` variants of one source.
///
/// `simulator`: `vdpa_sim_blk` is a RAM disk (128 MiB, zeroed when the device is created) that keeps its buffer
/// across driver binds. The command binds the simulator's device to `virtio_vdpa` (the host then sees it as a
/// virtio-blk disk), copies the data disk (the host's block device whose serial is `DataDisk.serial`) onto it
/// with direct I/O, and binds it to `virtio_vdpa` again. Only simulator devices are written: their content is
/// RAM that nothing else uses.
///
/// `pci`: a `vp_vdpa` device (mgmtdev `pci/…`) is a real virtio-blk device with its own medium. The command
/// never writes it, and takes it only when it is bound to `vhost_vdpa` or to nothing (bound to `virtio_vdpa`,
/// the host uses it as a disk); it binds it to `virtio_vdpa` and reads it. In the lab, L0 backs it with a
/// copy of the data disk.
///
/// Either way the command checks the SHA-256 of what it reads back, binds the device to `vhost_vdpa` for
/// guests and writes a marker in `/run/rvbench` (tmpfs: gone when the host reboots). A later call finds the
/// marker and does nothing else.
enum VDPADataDiskLookup {
    static let markerDirectory = "/run/rvbench"
    static let prefix = "rvbench-vdpa-data"

    static func marker(_ source: VDPASource) -> String {
        source == .simulator ? "\(markerDirectory)/vdpa-data" : "\(markerDirectory)/vdpa-data-\(source.rawValue)"
    }

    static func command(_ source: VDPASource) -> String {
        let mib = DataDisk.bytes >> 20
        let find: String, fill: String
        switch source {
        case .simulator:
            find = """
            name=$(vdpa dev show 2>/dev/null | awk '/ mgmtdev vdpasim_blk /{sub(":","",$1); print $1; exit}')
            [ -n "$name" ] || fail "no vDPA device of the vdpa_sim_blk simulator (vdpa dev show: $(vdpa dev show 2>&1 | tr '\\n' ' '))"
            """
            fill = """
            set -- $(\(DataDiskLookup.command))
            [ $# -eq 1 ] || fail "want one block device with serial \(DataDisk.serial) to copy from, found $#"
            data=$1
            err=$(dd if=$data of=$blk bs=1M count=\(mib) iflag=direct oflag=direct 2>&1) || fail "dd from $data to $blk: $err"
            bind virtio_vdpa
            blk=$(node b 'virtio*/block/*' '../virtio*/block/*'); [ -n "$blk" ] || fail "$name bound to virtio_vdpa again shows no block device"
            from="after the copy from $data and a driver rebind"
            """
        case .pci:
            find = """
            name=$(vdpa dev show 2>/dev/null | awk '/ type block / && / mgmtdev pci\\//{sub(":","",$1); print $1; exit}')
            [ -n "$name" ] || fail "no vp_vdpa block device (a vDPA device whose mgmtdev is pci/...; vdpa dev show: $(vdpa dev show 2>&1 | tr '\\n' ' '))"
            drv=$(basename "$(readlink /sys/bus/vdpa/devices/$name/driver 2>/dev/null)" 2>/dev/null)
            case "$drv" in
                ""|vhost_vdpa) ;;
                *) fail "$name is bound to $drv, so the host uses it; rvbench takes a vp_vdpa device only from vhost_vdpa or unbound (vdpa dev del, or bind it to vhost_vdpa, to give it to guests)" ;;
            esac
            """
            fill = """
            from="from the device's own medium (it is never written)"
            """
        }
        return """
        m=\(marker(source))
        fail() { echo "\(prefix) failed: $*"; exit 0; }
        if [ -s $m ]; then
            read -r name dev sum < $m
            if [ -c "$dev" ] && [ "$sum" = \(DataDisk.sha256) ]; then echo "\(prefix) ready $name $dev"; exit 0; fi
        fi
        \(find)
        sys=/sys/bus/vdpa/devices/$name
        err=$(modprobe virtio_vdpa 2>&1) || fail "modprobe virtio_vdpa: $err"
        bind() {
            if [ -e $sys/driver ]; then err=$(echo $name 2>&1 > $sys/driver/unbind) || fail "cannot unbind $name: $err"; fi
            err=$(echo $name 2>&1 > /sys/bus/vdpa/drivers/$1/bind) || fail "cannot bind $name to $1: $err"
        }
        # The first existing node of type $1 (b or c) under one of the patterns; a vp_vdpa device's virtio
        # device is a child of its PCI device (virtio_vdpa's parent is the DMA device), so ../ is searched too.
        node() {
            t=$1; shift
            for i in 1 2 3 4 5 6 7 8 9 10; do
                for p in "$@"; do
                    for f in $sys/$p; do [ -e "$f" ] && [ -$t /dev/${f##*/} ] && { echo /dev/${f##*/}; return; }; done
                done
                sleep 1
            done
        }
        # From here a failure leaves the device on vhost_vdpa: bound to virtio_vdpa, the host would see a second
        # disk with the data pattern.
        fail() {
            { [ -e $sys/driver ] && echo $name > $sys/driver/unbind; echo $name > /sys/bus/vdpa/drivers/vhost_vdpa/bind; } 2>/dev/null
            echo "\(prefix) failed: $*"; exit 0
        }
        bind virtio_vdpa
        blk=$(node b 'virtio*/block/*' '../virtio*/block/*'); [ -n "$blk" ] || fail "$name bound to virtio_vdpa shows no block device"
        \(fill)
        sum=$(dd if=$blk bs=1M count=\(mib) iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
        bind vhost_vdpa
        [ "$sum" = \(DataDisk.sha256) ] || fail "$name read back sha256 $sum $from, not the data disk's \(DataDisk.sha256)"
        dev=$(node c 'vhost-vdpa-*'); [ -n "$dev" ] || fail "$name bound to vhost_vdpa shows no /dev/vhost-vdpa-N"
        mkdir -p ${m%/*} && echo "$name $dev $sum" > $m.new && mv $m.new $m || fail "cannot write $m"
        echo "\(prefix) ready $name $dev"
        """
    }

    /// The state the command's output reports; output without its line is a failure quoting the output.
    static func state(fromOutput output: String) -> VDPADataDiskState {
        let lines = output.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let line = lines.last(where: { $0.hasPrefix(prefix + " ") }) else {
            let text = output.trimmingCharacters(in: .whitespacesAndNewlines)
            return .unavailable(reason: "filling the vDPA device printed no result" + (text.isEmpty ? "" : ": \(text.suffix(400))"))
        }
        let rest = line.dropFirst(prefix.count + 1)
        if rest.hasPrefix("failed: ") { return .unavailable(reason: String(rest.dropFirst("failed: ".count))) }
        let words = rest.split(separator: " ").map(String.init)
        guard words.count == 3, words[0] == "ready", !words[1].isEmpty, words[2].hasPrefix("/dev/vhost-vdpa-"),
              words[2].dropFirst("/dev/vhost-vdpa-".count).allSatisfy(\.isNumber) else {
            return .unavailable(reason: "filling the vDPA device printed an unexpected line: \(line.prefix(200))")
        }
        return .ready(name: words[1], device: words[2])
    }
}

/// What a `vdpa` result measured, for the manifest's and the reports' notes.
public enum VDPADatapath {
    /// The datapath of a vdpa variant's boots on `device`, by where the vDPA device comes from.
    public static func note(variant: String, device: String, source: VDPASource = .simulator) -> String {
        let front = "variant \(variant) (vdpa): the guest's data disk is QEMU's virtio-blk-pci device with libblkio's "
            + "virtio-blk-vhost-vdpa block driver over \(device), "
        switch source {
        case .simulator:
            return front + "backed by the vdpa_sim_blk simulator in the host's kernel, a simulated device (a RAM disk "
                + "the host filled with the data disk): the figures show the software vDPA path, not vDPA hardware"
        case .pci:
            return front + "backed by a virtio-blk PCI device that the host drives with vp_vdpa, its DMA translated by "
                + "the host's IOMMU in vhost-vdpa's domain (in the lab, the device is L0 QEMU's emulated virtio-blk-pci, "
                + "whose image is a copy of the data disk): a PCI vDPA datapath, not vDPA silicon"
        }
    }
}
