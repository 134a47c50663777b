// SPDX-License-Identifier: GPL-3.0-or-later
import Lab

/// Where the guest-side files live on the riscv64 host. The lab builds exactly this layout; a board
/// gets it by installing the lab's workload disk and guest kernel (see docs/spec.md).
public struct HostLayout: Sendable, Codable, Equatable {
    /// The L2 guest kernel, on the host.
    public var guestKernel: String
    /// The L2 initramfs whose `/init` is the workload runner.
    public var guestInitramfs: String
    /// Where the workload root (ffmpeg, ONNX Runtime, models, clips) is mounted read-only on the host.
    public var workloadRoot: String

    /// The layout of the emulated lab's L1.
    public static let lab = HostLayout(
        guestKernel: LabBuilder.l1GuestDirectory + "/Image",
        guestInitramfs: LabBuilder.l1GuestDirectory + "/initramfs.cpio",
        workloadRoot: "/opt/rvbench-root")

    /// The runner inside the workload root.
    public var runner: String { workloadRoot + "/opt/rvbench/bin/rvbench-runner" }
}
