// SPDX-License-Identifier: GPL-3.0-or-later
// The only file that imports CPfm (libpfm4 and its perf_event.h). Every libpfm4 call goes through
// `PfmLibrary.check` (pfm_strerror) and every perf_event_open, ioctl and read through `PerfSyscall`
// (errno); C types stay in this file.
import CPfm
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import RVBenchCore

/// A perf event as libpfm4 encoded it: what `perf_event_open` needs, in Swift types.
public struct PerfEventEncoding: Sendable, Equatable {
    /// The name as requested, e.g. "perf::CYCLES".
    public var name: String
    /// libpfm4's fully qualified name, e.g. "perf::PERF_COUNT_HW_CPU_CYCLES:u=1:k=1:...".
    public var qualifiedName: String
    /// `perf_event_attr.type` (0 hardware, 1 software, 4 raw, or a dynamic PMU type).
    public var type: UInt32
    public var config: UInt64
    public var config1: UInt64
    public var config2: UInt64
    public var excludeUser: Bool
    public var excludeKernel: Bool
    public var excludeHypervisor: Bool
}

/// libpfm4: initialised once, then used to encode event names.
public enum PfmLibrary {
    private static let initialisation: Result<Void, RVBenchError> = {
        let rc = pfm_initialize()
        if rc != PFM_SUCCESS {
            return .failure(RVBenchError(.library, "libpfm4: pfm_initialize failed: \(message(rc)); "
                + "check that libpfm4 is installed (apt install libpfm4)"))
        }
        return .success(())
    }()

    private static let lock = NSLock()

    static func message(_ rc: Int32) -> String {
        guard let s = pfm_strerror(rc) else { return "error \(rc)" }
        return String(cString: s)
    }

    /// Encodes an event name for `perf_event_open`, counting user and kernel space
    /// (`PFM_PLM3 | PFM_PLM0`). Names are libpfm4's: "perf::CYCLES", "perf::INSTRUCTIONS",
    /// "perf::PAGE-FAULTS", "perf::TASK-CLOCK", PMU-specific names, or raw codes such as "r01c2".
    ///
    /// Wraps `pfm_get_os_event_encoding(name, PFM_PLM0|PFM_PLM3, PFM_OS_PERF_EVENT_EXT, ...)`.
    /// - Throws: `RVBenchError(.badInput)` with `pfm_strerror`'s text when libpfm4 does not know the name.
    public static func encode(_ name: String) throws -> PerfEventEncoding {
        try initialisation.get()
        var attr = perf_event_attr()
        var fstr: UnsafeMutablePointer<CChar>? = nil
        let rc: Int32 = withUnsafeMutablePointer(to: &attr) { attrPtr in
            withUnsafeMutablePointer(to: &fstr) { fstrPtr in
                var arg = pfm_perf_encode_arg_t()
                arg.attr = attrPtr
                arg.fstr = fstrPtr
                arg.size = MemoryLayout<pfm_perf_encode_arg_t>.size
                return lock.withLock {
                    pfm_get_os_event_encoding(name, Int32(PFM_PLM0 | PFM_PLM3), PFM_OS_PERF_EVENT_EXT, &arg)
                }
            }
        }
        defer { free(fstr) }
        guard rc == PFM_SUCCESS else {
            throw RVBenchError(.badInput, "libpfm4 cannot encode event \"\(name)\": \(message(rc)); "
                + "use a perf:: name such as perf::CYCLES or perf::TASK-CLOCK, or a raw code rHEX")
        }
        return PerfEventEncoding(
            name: name, qualifiedName: fstr.map { String(cString: $0) } ?? name,
            type: attr.type, config: attr.config, config1: attr.config1, config2: attr.config2,
            excludeUser: attr.exclude_user != 0, excludeKernel: attr.exclude_kernel != 0,
            excludeHypervisor: attr.exclude_hv != 0)
    }
}

/// The perf_event_open, ioctl, read and close calls, with errno turned into errors.
enum PerfSyscall {
    // _IO('$', 0) and _IO('$', 1) from linux/perf_event.h (function-like macros do not reach Swift).
    static let enableRequest: UInt = 0x2400
    static let disableRequest: UInt = 0x2401

    /// A failed system call: the call, errno and its text.
    struct Failure: Error, CustomStringConvertible {
        var call: String
        var errno: Int32

        var description: String {
            "\(call): \(String(cString: strerror(errno))) (\(Self.symbol(errno)))\(Self.hint(errno))"
        }

        /// Without the hint: "perf_event_open: No such file or directory (ENOENT)".
        var shortDescription: String {
            "\(call): \(String(cString: strerror(errno))) (\(Self.symbol(errno)))"
        }

        static func symbol(_ e: Int32) -> String {
            switch e {
            case ENOENT: return "ENOENT"
            case EOPNOTSUPP: return "EOPNOTSUPP"
            case EACCES: return "EACCES"
            case EPERM: return "EPERM"
            case ESRCH: return "ESRCH"
            case EINVAL: return "EINVAL"
            case EMFILE: return "EMFILE"
            case ENODEV: return "ENODEV"
            case EBUSY: return "EBUSY"
            case ENOSYS: return "ENOSYS"
            default: return "errno \(e)"
            }
        }

        static func hint(_ e: Int32) -> String {
            switch e {
            case ENOENT, EOPNOTSUPP, ENODEV:
                return "; this CPU or PMU does not support the event (virtual machines often expose no hardware counters)"
            case EACCES, EPERM:
                return "; run as root or lower /proc/sys/kernel/perf_event_paranoid"
            case ESRCH:
                return "; the process or thread has exited"
            case EMFILE:
                return "; too many open files: raise the limit (ulimit -n) or count fewer events"
            case ENOSYS:
                return "; the kernel has no perf_event_open (CONFIG_PERF_EVENTS)"
            default:
                return ""
            }
        }
    }

    /// Opens a disabled counter for `event` on thread `tid` (any CPU), without inheritance.
    /// On EACCES/EPERM it retries counting user space only; `userOnly` tells which happened.
    /// Wraps `perf_event_open(2)`.
    static func open(_ event: PerfEventEncoding, tid: Int32) -> Result<(fd: Int32, userOnly: Bool), Failure> {
        func attempt(excludeKernel: Bool) -> (Int32, Int32) {
            var attr = perf_event_attr()
            attr.size = UInt32(MemoryLayout<perf_event_attr>.size)
            attr.type = event.type
            attr.config = event.config
            attr.config1 = event.config1
            attr.config2 = event.config2
            attr.disabled = 1
            attr.inherit = 0
            attr.exclude_user = event.excludeUser ? 1 : 0
            attr.exclude_kernel = (excludeKernel || event.excludeKernel) ? 1 : 0
            // No hypervisor-mode filter unless user-only counting is needed: RISC-V's SBI PMU can
            // filter modes only with Sscofpmf and refuses (EINVAL) any exclude_* bit without it.
            attr.exclude_hv = excludeKernel ? 1 : 0
            attr.read_format = UInt64(PERF_FORMAT_TOTAL_TIME_ENABLED.rawValue | PERF_FORMAT_TOTAL_TIME_RUNNING.rawValue)
            let fd = perf_event_open(&attr, tid, -1, -1, UInt(PERF_FLAG_FD_CLOEXEC))
            return (fd, fd < 0 ? errno : 0)
        }
        let (fd, err) = attempt(excludeKernel: false)
        if fd >= 0 { return .success((fd, false)) }
        if err == EACCES || err == EPERM {
            let (fd2, err2) = attempt(excludeKernel: true)
            if fd2 >= 0 { return .success((fd2, true)) }
            return .failure(Failure(call: "perf_event_open", errno: err2))
        }
        return .failure(Failure(call: "perf_event_open", errno: err))
    }

    static func enable(_ fd: Int32) throws {
        if ioctl(fd, enableRequest, CInt(0)) < 0 { throw Failure(call: "ioctl(PERF_EVENT_IOC_ENABLE)", errno: errno) }
    }

    static func disable(_ fd: Int32) throws {
        if ioctl(fd, disableRequest, CInt(0)) < 0 { throw Failure(call: "ioctl(PERF_EVENT_IOC_DISABLE)", errno: errno) }
    }

    /// Reads value, time_enabled and time_running (read_format TOTAL_TIME_ENABLED|TOTAL_TIME_RUNNING).
    static func read(_ fd: Int32) throws -> (value: UInt64, enabled: UInt64, running: UInt64) {
        var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
        let size = MemoryLayout.size(ofValue: words)
        var n: Int
        repeat {
            n = withUnsafeMutableBytes(of: &words) { Glibc.read(fd, $0.baseAddress, size) }
        } while n < 0 && errno == EINTR
        if n < 0 { throw Failure(call: "read(perf event)", errno: errno) }
        if n != size { throw Failure(call: "read(perf event): short read of \(n) bytes", errno: EIO) }
        return words
    }

    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }
}
