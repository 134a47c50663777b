// SPDX-License-Identifier: GPL-3.0-or-later

/// An error from any rvbench library: what went wrong, and what to do next.
///
/// Messages are lowercase and name the fix where there is one, e.g.
/// "no /dev/kvm on this host; use --lab or a riscv64 host with the H extension".
public struct RVBenchError: Error, CustomStringConvertible, Sendable {
    /// A coarse classification; `exitStatus` maps it onto the process exit code.
    public enum Code: String, Sendable, Codable {
        /// The user gave something malformed: a spec, a samples file, an argument.
        case badInput
        /// A file or directory that should exist does not.
        case notFound
        /// The baseline of a comparison is missing or has no samples.
        case baselineMissing
        /// The host cannot do what was asked (missing KVM, IOMMU, package...).
        case unsupported
        /// A C library call failed (libvirt, GSL, libpfm4, a syscall).
        case library
        /// An external process failed or timed out.
        case process
        /// A guest or VM misbehaved: hang, crash, garbage output.
        case guest
        /// A results directory or journal has an unknown or broken format.
        case format
        /// SIGINT or SIGTERM stopped the work.
        case interrupted
        /// An invariant of rvbench itself was violated.
        case `internal`
    }

    public var code: Code
    public var message: String
    public var cause: (any Error)?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        if let cause { return "\(message) (\(cause))" }
        return message
    }
}
