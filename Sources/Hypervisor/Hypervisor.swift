// SPDX-License-Identifier: GPL-3.0-or-later
import Logging
import RVBenchCore

/// The state of a domain, as `virDomainGetState` reports it.
public enum DomainState: String, Sendable, Codable, CaseIterable {
    case running, paused, shutoff, crashed, shutdown, blocked, pmsuspended, unknown
}

/// Versions of the libvirt stack behind a connection, for the manifest.
public struct HypervisorVersions: Sendable, Codable, Equatable {
    /// The libvirt library rvbench is linked against, e.g. `9.0.0`.
    public var libvirtLibrary: String
    /// The libvirt daemon answering the connection, e.g. `11.3.0`; nil for in-process drivers (`test:///`).
    public var libvirtDaemon: String?
    /// The driver's name for the hypervisor, e.g. `QEMU` or `TEST`.
    public var hypervisorType: String
    /// The hypervisor's version, e.g. `7.2.22` for QEMU; nil if the driver does not say.
    public var hypervisor: String?
    /// The hypervisor host's name; nil if the driver does not say.
    public var hostname: String?

    public init(libvirtLibrary: String, libvirtDaemon: String?, hypervisorType: String, hypervisor: String?,
                hostname: String?) {
        self.libvirtLibrary = libvirtLibrary
        self.libvirtDaemon = libvirtDaemon
        self.hypervisorType = hypervisorType
        self.hypervisor = hypervisor
        self.hostname = hostname
    }
}

/// A connection to a hypervisor. `LibvirtHypervisor` is the implementation; libvirt's own
/// `test:///default` driver serves the unit tests.
///
/// The calls are synchronous remote calls: they block the calling thread for one round trip
/// (`capabilities()` can take long on a first probe).
public protocol Hypervisor: AnyObject, Sendable {
    /// The URI the connection was opened with.
    var uri: String { get }
    /// Defines a persistent domain without starting it. Wraps `virDomainDefineXML`.
    func define(xml: String) throws -> any DomainHandle
    /// Creates and starts a transient domain, optionally paused. Wraps `virDomainCreateXML`
    /// with `VIR_DOMAIN_START_PAUSED`.
    func create(xml: String, paused: Bool) throws -> any DomainHandle
    /// The domain with this name, or nil when there is none. Wraps `virDomainLookupByName`.
    func lookup(name: String) throws -> (any DomainHandle)?
    /// Names of running domains, and of defined but inactive ones if asked. Wraps `virConnectListAllDomains`.
    func domainNames(includeInactive: Bool) throws -> [String]
    /// The host capabilities XML. Wraps `virConnectGetCapabilities`.
    func capabilities() throws -> String
    /// The domain capabilities XML for one arch/machine/type. Wraps `virConnectGetDomainCapabilities`.
    func domainCapabilities(arch: String, machine: String, virtType: String) throws -> String
    /// Library, daemon and hypervisor versions.
    func versions() throws -> HypervisorVersions
    /// False once the connection is closed or broken. Wraps `virConnectIsAlive`.
    func isAlive() -> Bool
}

/// A domain on a hypervisor connection.
public protocol DomainHandle: AnyObject, Sendable {
    var name: String { get }
    /// Starts a defined domain, optionally paused. Wraps `virDomainCreateWithFlags`.
    func start(paused: Bool) throws
    /// Resumes a paused domain. Wraps `virDomainResume`.
    func resume() throws
    /// Stops the domain at once; no error if it is already inactive or gone. Wraps `virDomainDestroy`.
    func destroy() throws
    /// Removes the definition with its NVRAM, managed save and snapshot/checkpoint metadata;
    /// no error if the domain is transient or already gone. Wraps `virDomainUndefineFlags`.
    func undefine() throws
    /// Wraps `virDomainGetState`.
    func state() throws -> DomainState
    /// The live XML of a running domain, otherwise the inactive one. Wraps `virDomainGetXMLDesc`.
    func xml() throws -> String
    /// The QEMU process id from `/run/libvirt/qemu/<name>.pid` when the connection is the local
    /// `qemu:///system` and the domain runs; nil otherwise.
    func qemuPID() throws -> Int32?
    /// Opens the domain's serial console as a stream. Wraps `virDomainOpenConsole` with
    /// `VIR_DOMAIN_CONSOLE_FORCE`.
    func openConsole() throws -> ConsoleStream
}

/// Opens a connection, runs `body`, and closes the connection on every exit.
public func withHypervisor<T: Sendable>(
    uri: String, logger: Logger, _ body: (LibvirtHypervisor) async throws -> T
) async throws -> T {
    let hv = try LibvirtHypervisor(uri: uri, logger: logger)
    defer { hv.close() }
    return try await body(hv)
}

/// Creates (or defines+starts) a domain, runs body, and on EVERY exit (return, throw,
/// cancellation) destroys and undefines it.
///
/// - Parameters:
///   - persistent: define the domain and start it (`virDomainDefineXML` + `virDomainCreateWithFlags`)
///     instead of creating a transient one (`virDomainCreateXML`).
///   - logger: where teardown failures go when `body` already threw (its error wins).
/// - Throws: `body`'s error; otherwise a teardown failure.
public func withDomain<T: Sendable>(
    on hv: any Hypervisor, xml: String, paused: Bool, persistent: Bool = false, logger: Logger? = nil,
    _ body: (any DomainHandle) async throws -> T
) async throws -> T {
    let domain: any DomainHandle
    if persistent {
        domain = try hv.define(xml: xml)
        do {
            try domain.start(paused: paused)
        } catch {
            tearDown(domain, logger: logger)
            throw error
        }
    } else {
        domain = try hv.create(xml: xml, paused: paused)
    }
    let result: T
    do {
        result = try await body(domain)
    } catch {
        tearDown(domain, logger: logger)
        throw error
    }
    try destroyAndUndefine(domain)
    return result
}

/// Destroys and undefines, attempting both even if the first fails; throws the first failure.
func destroyAndUndefine(_ domain: any DomainHandle) throws {
    var firstError: (any Error)?
    do { try domain.destroy() } catch { firstError = error }
    do { try domain.undefine() } catch { firstError = firstError ?? error }
    if let firstError { throw firstError }
}

private func tearDown(_ domain: any DomainHandle, logger: Logger?) {
    do {
        try destroyAndUndefine(domain)
    } catch {
        (logger ?? Logger(label: "rvbench.hypervisor")).error("domain teardown failed", metadata: ["vm.name": "\(domain.name)", "error": "\(error)"])
    }
}
