// SPDX-License-Identifier: GPL-3.0-or-later
// The only file that sees libvirt's C API. Everything here is internal or wrapped in Swift types.
import CLibvirt
import Foundation
import Logging
import RVBenchCore

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Process-wide setup

/// One-time libvirt setup, run lazily (and thread-safely: Swift globals are initialised once)
/// before the first connection:
/// - `virInitialize`, required before concurrent use from several threads;
/// - silence libvirt's default printing of every error to stderr, so errors reach the user
///   only through `LibvirtFailure`;
/// - register libvirt's default event loop and run it forever on a dedicated thread, which
///   gives remote connections keepalive (a dead lab host is noticed).
private let libvirtRuntime: Void = {
    _ = virInitialize()
    virSetErrorFunc(nil, { _, _ in })
    if virEventRegisterDefaultImpl() == 0 {
        let thread = Thread {
            // Keepalive messages are written from this thread. When the peer has gone (a lab whose L0 was
            // stopped while a connection to its libvirtd was still open), that write would raise SIGPIPE and
            // end the whole process. Blocked here, the write fails with EPIPE and libvirt closes the
            // connection, as it does itself around the writes it makes on the callers' threads.
            var pipe = sigset_t()
            sigemptyset(&pipe)
            sigaddset(&pipe, SIGPIPE)
            pthread_sigmask(SIG_BLOCK, &pipe, nil)
            while virEventRunDefaultImpl() == 0 {}
        }
        thread.name = "rvbench-libvirt-events"
        thread.start()
    }
}()

// MARK: - The error funnel

/// A libvirt call failed; carries `virGetLastError()`'s fields.
struct LibvirtFailure {
    var message: String
    var domain: Int32
    var code: Int32

    /// Reads and clears the calling thread's last libvirt error. Call it right after the
    /// failing call, on the same thread (libvirt keeps the last error per thread).
    static func last(_ what: String) -> LibvirtFailure {
        guard let err = virGetLastError() else {
            return LibvirtFailure(message: "\(what) failed without an error report", domain: 0, code: 0)
        }
        let message = err.pointee.message.map { String(cString: $0) } ?? "\(what) failed"
        let failure = LibvirtFailure(message: message, domain: err.pointee.domain, code: err.pointee.code)
        virResetLastError()
        return failure
    }

    func `is`(_ number: virErrorNumber) -> Bool { code == Int32(bitPattern: number.rawValue) }

    var isNoDomain: Bool { self.is(VIR_ERR_NO_DOMAIN) }
    var isOperationInvalid: Bool { self.is(VIR_ERR_OPERATION_INVALID) }
    /// The driver rejects a flag (it reports "unsupported flags (0x…)") or the call.
    var isUnsupported: Bool { self.is(VIR_ERR_INVALID_ARG) || self.is(VIR_ERR_NO_SUPPORT) }

    /// `libvirt: <message> (<domain>/<code>)`
    var error: RVBenchError {
        RVBenchError(.library, "libvirt: \(message) (\(domain)/\(code))")
    }
}

/// Calls `body`; on a negative result reads the thread's last error.
private func check(_ what: String, _ result: Int32) -> LibvirtFailure? {
    result < 0 ? LibvirtFailure.last(what) : nil
}

/// Takes ownership of a C string that must be released with `free()`.
private func takeString(_ pointer: UnsafeMutablePointer<CChar>?) -> String? {
    guard let pointer else { return nil }
    defer { free(pointer) }
    return String(cString: pointer)
}

/// libvirt packs versions as major * 1,000,000 + minor * 1,000 + micro.
private func versionString(_ packed: UInt) -> String {
    "\(packed / 1_000_000).\((packed / 1000) % 1000).\(packed % 1000)"
}

// MARK: - Connection

/// A libvirt connection. Wraps `virConnectOpen`; closed by `close()` or on deinit.
public final class LibvirtHypervisor: Hypervisor, @unchecked Sendable {
    // @unchecked Sendable is safe: libvirt connections may be used from several threads at once
    // (libvirt's documented thread-safety since 0.6.0, after virInitialize), and the only mutable
    // state, `connection`, is guarded by `lock`. Each call takes its own reference
    // (`virConnectRef`), so `close()` never frees a connection another thread is using.
    public let uri: String
    private let logger: Logger
    private let lock = NSLock()
    private var connection: virConnectPtr?
    /// `/run/libvirt/qemu` for the local system QEMU driver, where libvirt writes `<name>.pid`.
    let qemuPIDDirectory: String?
    /// The test driver cannot start domains paused; `create` and `start` make up for it there.
    private let isTestDriver: Bool
    /// True when libvirt sends keepalive probes on this connection (remote drivers with the event loop).
    let keepAliveEnabled: Bool

    /// Opens `uri` (e.g. `qemu:///system`, `qemu+tcp://127.0.0.1:16509/system`, `test:///default`).
    /// Throws `RVBenchError(.library, "libvirt: …")` with libvirt's reason when it cannot connect.
    public init(uri: String, logger: Logger) throws {
        _ = libvirtRuntime
        self.uri = uri
        var logger = logger
        logger[metadataKey: "libvirt.uri"] = "\(uri)"
        self.logger = logger
        guard let conn = virConnectOpen(uri) else {
            throw LibvirtFailure.last("virConnectOpen").error
        }
        connection = conn
        let canonical = takeString(virConnectGetURI(conn)) ?? uri
        qemuPIDDirectory = Self.isLocalSystemQEMU(canonical) ? "/run/libvirt/qemu" : nil
        isTestDriver = canonical.hasPrefix("test:")
        // Probe every 5 s; a peer silent for 30 s is declared dead and calls on it fail.
        let keepAlive = isTestDriver ? -1 : virConnectSetKeepAlive(conn, 5, 6)
        keepAliveEnabled = keepAlive == 0
        if keepAlive < 0, !isTestDriver {
            let failure = LibvirtFailure.last("virConnectSetKeepAlive")
            logger.debug("no keepalive on this connection", metadata: ["reason": "\(failure.message)"])
        }
        logger.debug("libvirt connection open", metadata: ["libvirt.canonical": "\(canonical)"])
    }

    deinit {
        if let connection { virConnectClose(connection) }
    }

    /// Closes the connection (`virConnectClose`). Domains and consoles obtained from it keep
    /// working until they are released. Idempotent.
    public func close() {
        lock.lock()
        let conn = connection
        connection = nil
        lock.unlock()
        if let conn { virConnectClose(conn) }
    }

    static func isLocalSystemQEMU(_ uri: String) -> Bool {
        guard let colon = uri.firstIndex(of: ":") else { return false }
        let scheme = uri[..<colon]
        guard scheme == "qemu" || scheme == "qemu+unix" else { return false }
        let rest = uri[colon...]
        guard rest.hasPrefix(":///system") else { return false }
        let tail = rest.dropFirst(":///system".count)
        return tail.isEmpty || tail.hasPrefix("?")
    }

    /// Runs `body` with a referenced connection handle.
    private func withConnection<R>(_ body: (virConnectPtr) throws -> R) throws -> R {
        lock.lock()
        guard let conn = connection else {
            lock.unlock()
            throw RVBenchError(.library, "libvirt: the connection to \(uri) is closed; open a new one")
        }
        virConnectRef(conn)
        lock.unlock()
        defer { virConnectClose(conn) }
        return try body(conn)
    }

    private func wrap(_ domain: virDomainPtr, logger: Logger) -> LibvirtDomain {
        LibvirtDomain(domain, logger: logger, qemuPIDDirectory: qemuPIDDirectory, isTestDriver: isTestDriver)
    }

    public func define(xml: String) throws -> any DomainHandle {
        try withConnection { conn in
            guard let dom = virDomainDefineXML(conn, xml) else {
                throw LibvirtFailure.last("virDomainDefineXML").error
            }
            let handle = wrap(dom, logger: logger)
            logger.debug("domain defined", metadata: ["vm.name": "\(handle.name)"])
            return handle
        }
    }

    public func create(xml: String, paused: Bool) throws -> any DomainHandle {
        try withConnection { conn in
            let flags = paused ? VIR_DOMAIN_START_PAUSED.rawValue : 0
            if let dom = virDomainCreateXML(conn, xml, flags) {
                let handle = wrap(dom, logger: logger)
                logger.debug("domain created", metadata: ["vm.name": "\(handle.name)", "vm.paused": "\(paused)"])
                return handle
            }
            let failure = LibvirtFailure.last("virDomainCreateXML")
            guard paused, isTestDriver, failure.isUnsupported,
                  let dom = virDomainCreateXML(conn, xml, 0) else {
                throw failure.error
            }
            // The test driver lacks VIR_DOMAIN_START_PAUSED and runs no guest code, so starting and
            // suspending at once is equivalent there. Real drivers never take this path.
            let handle = wrap(dom, logger: logger)
            do {
                try handle.suspend()
            } catch {
                try? handle.destroy()
                throw error
            }
            return handle
        }
    }

    public func lookup(name: String) throws -> (any DomainHandle)? {
        try withConnection { conn in
            if let dom = virDomainLookupByName(conn, name) { return wrap(dom, logger: logger) }
            let failure = LibvirtFailure.last("virDomainLookupByName")
            if failure.isNoDomain { return nil }
            throw failure.error
        }
    }

    public func domainNames(includeInactive: Bool) throws -> [String] {
        try withConnection { conn in
            var list: UnsafeMutablePointer<virDomainPtr?>?
            let flags = includeInactive ? 0 : VIR_CONNECT_LIST_DOMAINS_ACTIVE.rawValue
            let count = virConnectListAllDomains(conn, &list, flags)
            if count < 0 { throw LibvirtFailure.last("virConnectListAllDomains").error }
            defer { free(list) }
            var names: [String] = []
            for i in 0..<Int(count) {
                guard let dom = list?[i] else { continue }
                if let name = virDomainGetName(dom) { names.append(String(cString: name)) }
                virDomainFree(dom)
            }
            return names.sorted()
        }
    }

    public func capabilities() throws -> String {
        try withConnection { conn in
            guard let xml = takeString(virConnectGetCapabilities(conn)) else {
                throw LibvirtFailure.last("virConnectGetCapabilities").error
            }
            return xml
        }
    }

    public func domainCapabilities(arch: String, machine: String, virtType: String) throws -> String {
        try withConnection { conn in
            guard let xml = takeString(virConnectGetDomainCapabilities(conn, nil, arch, machine, virtType, 0)) else {
                throw LibvirtFailure.last("virConnectGetDomainCapabilities").error
            }
            return xml
        }
    }

    public func versions() throws -> HypervisorVersions {
        try withConnection { conn in
            var library: UInt = 0
            if let failure = check("virGetVersion", virGetVersion(&library, nil, nil)) { throw failure.error }
            guard let type = virConnectGetType(conn) else {
                throw LibvirtFailure.last("virConnectGetType").error
            }
            var daemon: String?
            if !isTestDriver {
                var packed: UInt = 0
                if let failure = check("virConnectGetLibVersion", virConnectGetLibVersion(conn, &packed)) {
                    throw failure.error
                }
                daemon = versionString(packed)
            }
            var hvPacked: UInt = 0
            var hypervisor: String?
            if virConnectGetVersion(conn, &hvPacked) == 0 {
                hypervisor = versionString(hvPacked)
            } else {
                let failure = LibvirtFailure.last("virConnectGetVersion")
                logger.debug("hypervisor version unknown", metadata: ["reason": "\(failure.message)"])
            }
            let hostname = takeString(virConnectGetHostname(conn))
            if hostname == nil { _ = LibvirtFailure.last("virConnectGetHostname") }
            return HypervisorVersions(libvirtLibrary: versionString(library), libvirtDaemon: daemon,
                                      hypervisorType: String(cString: type), hypervisor: hypervisor,
                                      hostname: hostname)
        }
    }

    public func isAlive() -> Bool {
        (try? withConnection { virConnectIsAlive($0) == 1 }) ?? false
    }
}

// MARK: - Domain

/// A libvirt domain handle; freed (`virDomainFree`) on deinit.
final class LibvirtDomain: DomainHandle, @unchecked Sendable {
    // @unchecked Sendable is safe: a virDomainPtr is an immutable, reference-counted handle that
    // libvirt lets several threads use at once; every other stored property is immutable.
    private let domain: virDomainPtr
    let name: String
    private let logger: Logger
    private let qemuPIDDirectory: String?
    private let isTestDriver: Bool

    init(_ domain: virDomainPtr, logger: Logger, qemuPIDDirectory: String?, isTestDriver: Bool) {
        self.domain = domain
        self.name = virDomainGetName(domain).map { String(cString: $0) } ?? ""
        var logger = logger
        logger[metadataKey: "vm.name"] = "\(name)"
        self.logger = logger
        self.qemuPIDDirectory = qemuPIDDirectory
        self.isTestDriver = isTestDriver
    }

    deinit {
        virDomainFree(domain)
    }

    func start(paused: Bool) throws {
        let flags = paused ? VIR_DOMAIN_START_PAUSED.rawValue : 0
        guard let failure = check("virDomainCreateWithFlags", virDomainCreateWithFlags(domain, flags)) else {
            logger.debug("domain started", metadata: ["vm.paused": "\(paused)"])
            return
        }
        guard paused, isTestDriver, failure.isUnsupported else { throw failure.error }
        // The test driver lacks VIR_DOMAIN_START_PAUSED and runs no guest code, so starting and
        // suspending at once is equivalent there. Real drivers never take this path.
        if let failure = check("virDomainCreateWithFlags", virDomainCreateWithFlags(domain, 0)) { throw failure.error }
        do {
            try suspend()
        } catch {
            try? destroy()
            throw error
        }
    }

    /// Pauses the vCPUs. Wraps `virDomainSuspend`.
    func suspend() throws {
        if let failure = check("virDomainSuspend", virDomainSuspend(domain)) { throw failure.error }
    }

    func resume() throws {
        if let failure = check("virDomainResume", virDomainResume(domain)) { throw failure.error }
        logger.debug("domain resumed")
    }

    /// Whether a state query (`virDomainIsActive`, `virDomainIsPersistent`) answered yes. A domain
    /// that is already gone answers no; any other failure is thrown.
    private func holds(_ what: String, _ answer: Int32) throws -> Bool {
        guard answer < 0 else { return answer != 0 }
        let failure = LibvirtFailure.last(what)
        if failure.isNoDomain { return false }
        throw failure.error
    }

    func destroy() throws {
        guard try holds("virDomainIsActive", virDomainIsActive(domain)) else { return }
        if let failure = check("virDomainDestroy", virDomainDestroy(domain)) {
            // Gone or stopped between the two calls.
            if failure.isNoDomain || failure.isOperationInvalid { return }
            throw failure.error
        }
        logger.debug("domain destroyed")
    }

    func undefine() throws {
        guard try holds("virDomainIsPersistent", virDomainIsPersistent(domain)) else { return }
        // Drivers differ in which flags they accept (the test driver rejects NVRAM, TPM and
        // checkpoints); fall back to fewer when a flag is refused.
        let all = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE.rawValue | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA.rawValue
            | VIR_DOMAIN_UNDEFINE_NVRAM.rawValue | VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA.rawValue
            | VIR_DOMAIN_UNDEFINE_TPM.rawValue
        let metadataOnly = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE.rawValue | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA.rawValue
        var lastFailure: LibvirtFailure?
        for flags in [all, metadataOnly, 0] {
            guard let failure = check("virDomainUndefineFlags", virDomainUndefineFlags(domain, flags)) else {
                logger.debug("domain undefined")
                return
            }
            if failure.isNoDomain { return }
            // It became transient (e.g. undefined elsewhere while running).
            if failure.isOperationInvalid, virDomainIsPersistent(domain) == 0 { return }
            lastFailure = failure
            if !failure.isUnsupported { break }
        }
        if let lastFailure { throw lastFailure.error }
    }

    func state() throws -> DomainState {
        var state: Int32 = 0
        var reason: Int32 = 0
        if let failure = check("virDomainGetState", virDomainGetState(domain, &state, &reason, 0)) {
            throw failure.error
        }
        switch UInt32(bitPattern: state) {
        case VIR_DOMAIN_RUNNING.rawValue: return .running
        case VIR_DOMAIN_BLOCKED.rawValue: return .blocked
        case VIR_DOMAIN_PAUSED.rawValue: return .paused
        case VIR_DOMAIN_SHUTDOWN.rawValue: return .shutdown
        case VIR_DOMAIN_SHUTOFF.rawValue: return .shutoff
        case VIR_DOMAIN_CRASHED.rawValue: return .crashed
        case VIR_DOMAIN_PMSUSPENDED.rawValue: return .pmsuspended
        default: return .unknown
        }
    }

    func xml() throws -> String {
        guard let xml = takeString(virDomainGetXMLDesc(domain, 0)) else {
            throw LibvirtFailure.last("virDomainGetXMLDesc").error
        }
        return xml
    }

    func qemuPID() throws -> Int32? {
        guard let directory = qemuPIDDirectory else { return nil }
        let path = "\(directory)/\(name).pid"
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let pid = Int32(text), pid > 0 else {
            throw RVBenchError(.format, "\(path) holds '\(text)', not a process id")
        }
        // A stale file from a domain that has stopped names no process of ours.
        return processExists(pid) ? pid : nil
    }

    func openConsole() throws -> ConsoleStream {
        guard let conn = virDomainGetConnect(domain) else {
            throw LibvirtFailure.last("virDomainGetConnect").error
        }
        // A blocking stream (flags 0): read on the console's own thread.
        guard let stream = virStreamNew(conn, 0) else {
            throw LibvirtFailure.last("virStreamNew").error
        }
        let source = LibvirtStream(stream)
        if let failure = check("virDomainOpenConsole",
                               virDomainOpenConsole(domain, nil, stream, VIR_DOMAIN_CONSOLE_FORCE.rawValue)) {
            source.abort()
            throw failure.error
        }
        logger.debug("console open")
        return ConsoleStream(source: source)
    }
}

// MARK: - Stream

/// A blocking libvirt stream as a console byte source; freed (`virStreamFree`) on deinit.
final class LibvirtStream: ConsoleByteSource, @unchecked Sendable {
    // @unchecked Sendable is safe: `read` runs on one thread only (the console's reader), and
    // `abort` may run concurrently with it, which is how libvirt interrupts a blocking
    // virStreamRecv; `finish`/`abort` are made mutually exclusive and one-shot by `ended`,
    // under a lock. The handle is freed only in deinit, after every user has let go.
    private let stream: virStreamPtr
    private let ended = Locked(false)

    init(_ stream: virStreamPtr) {
        self.stream = stream
    }

    deinit {
        virStreamFree(stream)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = virStreamRecv(stream, buffer.baseAddress?.assumingMemoryBound(to: CChar.self), buffer.count)
        if n < 0 { throw LibvirtFailure.last("virStreamRecv").error }
        return Int(n)
    }

    func finish() {
        guard markEnded() else { return }
        if virStreamFinish(stream) < 0 { _ = LibvirtFailure.last("virStreamFinish") }
    }

    func abort() {
        guard markEnded() else { return }
        if virStreamAbort(stream) < 0 { _ = LibvirtFailure.last("virStreamAbort") }
    }

    /// True for the first caller only.
    private func markEnded() -> Bool {
        ended.withLock { e in
            defer { e = true }
            return !e
        }
    }
}
