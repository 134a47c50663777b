// SPDX-License-Identifier: GPL-3.0-or-later
import Dispatch
import Foundation
@testable import Hypervisor
import Logging
import RVBenchCore
import Testing

/// A hypervisor whose `create` does not return until its domain is destroyed, as libvirt's
/// `virDomainCreateXML` does while the new domain's QEMU waits forever.
final class HangingCreate: Hypervisor, @unchecked Sendable {
    let uri = "fake:///hanging-create"
    let released = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var _destroyed: [String] = []
    var destroyed: [String] { lock.lock(); defer { lock.unlock() }; return _destroyed }

    final class Domain: DomainHandle, @unchecked Sendable {
        let name: String
        let owner: HangingCreate
        init(name: String, owner: HangingCreate) { self.name = name; self.owner = owner }
        func start(paused: Bool) throws {}
        func resume() throws {}
        func destroy() throws {
            owner.lock.lock(); owner._destroyed.append(name); owner.lock.unlock()
            owner.released.signal()
        }
        func undefine() throws {}
        func state() throws -> DomainState { .running }
        func xml() throws -> String { "<domain/>" }
        func qemuPID() throws -> Int32? { nil }
        func openConsole() throws -> ConsoleStream { throw RVBenchError(.unsupported, "no console") }
    }

    func create(xml: String, paused: Bool) throws -> any DomainHandle {
        released.wait()
        throw RVBenchError(.library, "the domain was destroyed while it was being created")
    }
    func define(xml: String) throws -> any DomainHandle { throw RVBenchError(.unsupported, "no define") }
    func lookup(name: String) throws -> (any DomainHandle)? { Domain(name: name, owner: self) }
    func domainNames(includeInactive: Bool) throws -> [String] { [] }
    func capabilities() throws -> String { "" }
    func domainCapabilities(arch: String, machine: String, virtType: String) throws -> String { "" }
    func versions() throws -> HypervisorVersions { throw RVBenchError(.unsupported, "no versions") }
    func isAlive() -> Bool { true }
}

@Suite struct LibvirtQueueTests {
    let logger = Logger(label: "rvbench.tests.queue")

    /// A queue whose serial thread is held by a creation on `hv` that does not return until its domain is destroyed.
    func heldQueue(_ hv: HangingCreate, label: String) async throws -> (LibvirtQueue, Task<Void, any Error>) {
        let queue = LibvirtQueue(label: label)
        let logger = self.logger
        let creating = Task {
            try await queue.withDomain(on: hv, xml: "<domain/>", paused: true, logger: logger) { _ in }
        }
        try await Task.sleep(for: .milliseconds(200))
        return (queue, creating)
    }

    /// A creation that never returns holds the serial queue; removing its domain must not wait behind it.
    @Test(.timeLimit(.minutes(1)))
    func aDomainWhoseCreationHangsIsRemovedThroughASecondConnection() async throws {
        let hv = HangingCreate()
        let (queue, creating) = try await heldQueue(hv, label: "rvbench.tests.hanging")
        await queue.removeDomain(named: "rvbench-x-virtio-b0-a1", on: hv, logger: logger,
                                 stuckAfter: .milliseconds(300), reopen: { _ in hv })
        let result = await creating.result
        guard case .failure(let error) = result else { Issue.record("the hanging creation returned a domain"); return }
        #expect((error as? RVBenchError)?.message.contains("destroyed while it was being created") == true)
        // Destroyed once through the second connection; the queued removal then found it gone (here: again).
        #expect(hv.destroyed.first == "rvbench-x-virtio-b0-a1")
    }

    /// A second connection that fails once is tried again.
    @Test(.timeLimit(.minutes(1)))
    func theRescueTriesAgainWhenTheSecondConnectionFails() async throws {
        let hv = HangingCreate()
        let (queue, creating) = try await heldQueue(hv, label: "rvbench.tests.hanging.retry")
        let attempts = Locked(0)
        await queue.removeDomain(named: "d", on: hv, logger: logger, stuckAfter: .milliseconds(200), reopen: { _ in
            let attempt = attempts.withLock { count -> Int in count += 1; return count }
            if attempt == 1 { throw RVBenchError(.library, "connection refused") }
            return hv
        })
        #expect(attempts.withLock { $0 } >= 2)
        guard case .failure = await creating.result else { Issue.record("the hanging creation returned a domain"); return }
        #expect(hv.destroyed.first == "d")
    }

    /// A removal that starts at once never triggers the rescue, even when it is slow.
    @Test func aPromptRemovalOpensNoSecondConnection() async {
        let hv = HangingCreate()
        let queue = LibvirtQueue(label: "rvbench.tests.prompt")
        let attempts = Locked(0)
        await queue.removeDomain(named: "d", on: hv, logger: logger, stuckAfter: .milliseconds(100),
                                 reopen: { _ in attempts.withLock { $0 += 1 }; return hv })
        try? await Task.sleep(for: .milliseconds(300))
        #expect(attempts.withLock { $0 } == 0 && hv.destroyed == ["d"])
    }
}
