// SPDX-License-Identifier: GPL-3.0-or-later
import Dispatch
import Foundation
import Logging
import RVBenchCore

/// Runs blocking libvirt calls on a serial dispatch queue of their own, behind `async` functions, so
/// that a round trip to a slow daemon never holds a thread of Swift's cooperative pool.
public struct LibvirtQueue: Sendable {
    private let queue: DispatchQueue

    public init(label: String = "rvbench.libvirt") {
        queue = DispatchQueue(label: label)
    }

    /// Runs `body` on the queue and returns its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    /// Runs `body` on the queue, for calls whose failure only matters to a log.
    public func run(_ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { continuation in
            queue.async {
                body()
                continuation.resume()
            }
        }
    }

    /// Destroys and undefines every domain whose name starts with `prefix`; returns their names.
    /// Failures are logged: a domain that cannot be removed is named in the log with the error.
    @discardableResult
    public func removeDomains(on hv: any Hypervisor, prefix: String, logger: Logger) async throws -> [String] {
        try await run {
            let names = try hv.domainNames(includeInactive: true).filter { $0.hasPrefix(prefix) }
            for name in names {
                Self.remove(name, on: hv, logger: logger)
            }
            return names
        }
    }

    /// Destroys and undefines the domain with this name, if there is one (on the queue).
    ///
    /// The queue is serial, so a libvirt call that never returns holds it: a `virDomainCreateXML` whose QEMU
    /// waits forever (seen with a vhost-vdpa disk whose device never completes a request) would keep this
    /// removal, and every later call, waiting. While the queued removal has not started, every `stuckAfter`
    /// the domain is destroyed through a connection of its own (`reopen`, on a thread of its own): libvirt
    /// kills its QEMU, the stuck call returns with an error and the queue moves again.
    public func removeDomain(named name: String, on hv: any Hypervisor, logger: Logger,
                             stuckAfter: Duration = .seconds(30),
                             reopen: (@Sendable (String) throws -> any Hypervisor)? = nil) async {
        let started = Locked(false)
        let uri = hv.uri
        // Tries again every `stuckAfter` until the queued removal starts: the hung call may not have made the
        // domain known to libvirt yet, or the second connection may fail once.
        let rescue = Task.detached {
            while true {
                try? await Task.sleep(for: stuckAfter)
                guard !Task.isCancelled, !started.withLock({ $0 }) else { return }
                logger.warning("the libvirt queue is held by a call that has not returned; removing the domain through a connection of its own", metadata: ["vm.name": "\(name)", "libvirt.uri": "\(uri)"])
                await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
                    DispatchQueue.global().async {
                        do {
                            let fresh = try reopen?(uri) ?? LibvirtHypervisor(uri: uri, logger: logger)
                            Self.remove(name, on: fresh, logger: logger)
                            (fresh as? LibvirtHypervisor)?.close()
                        } catch {
                            logger.error("could not open a second libvirt connection to remove a domain; check with virsh list --all", metadata: ["vm.name": "\(name)", "error": "\(error)"])
                        }
                        finished.resume()
                    }
                }
            }
        }
        // Set when the queued removal starts, not when it ends: a slow destroy is not a held queue.
        await run {
            started.withLock { $0 = true }
            Self.remove(name, on: hv, logger: logger)
        }
        rescue.cancel()
    }

    static func remove(_ name: String, on hv: any Hypervisor, logger: Logger) {
        do {
            if let domain = try hv.lookup(name: name) { try destroyAndUndefine(domain) }
        } catch {
            logger.error("could not remove a domain", metadata: ["vm.name": "\(name)", "error": "\(error)"])
        }
    }

    /// `withDomain` with every libvirt call on the queue: creates the domain (paused or not), runs
    /// `body`, and destroys and undefines the domain on every exit (return, throw, cancellation).
    public func withDomain<T: Sendable>(
        on hv: any Hypervisor, xml: String, paused: Bool, logger: Logger,
        _ body: @Sendable (any DomainHandle) async throws -> T
    ) async throws -> T {
        let domain = try await run { try hv.create(xml: xml, paused: paused) }
        let result: T
        do {
            result = try await body(domain)
        } catch {
            await run { Self.remove(domain.name, on: hv, logger: logger) }
            throw error
        }
        try await run { try destroyAndUndefine(domain) }
        return result
    }
}
