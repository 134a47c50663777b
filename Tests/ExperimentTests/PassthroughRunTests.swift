// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Testing
@testable import Experiment
import GuestWire
@testable import Host
import Hypervisor
import Logging
import Probe
import Remote
import RVBenchCore

/// libvirt's `test:///default` driver behind the `Hypervisor` protocol, as a host that accepts what rvbench
/// generates: each guest's XML is recorded as generated, then created as a `type='test'` domain with the same
/// devices, whose live XML (libvirt's own parse of the devices) is recorded too.
final class RecordingTestDriver: Hypervisor, @unchecked Sendable {
    let inner: LibvirtHypervisor
    private let lock = NSLock()
    private var _generated: [String] = []
    private var _live: [String] = []

    init() throws { inner = try LibvirtHypervisor(uri: "test:///default", logger: Logger(label: "test")) }

    var generated: [String] { lock.lock(); defer { lock.unlock() }; return _generated }
    var live: [String] { lock.lock(); defer { lock.unlock() }; return _live }
    var uri: String { inner.uri }

    /// The same domain for the test driver: `type='test'`, a bare hvm OS, the generated `<devices>`.
    static func forTestDriver(_ xml: String) throws -> String {
        guard let name = xml.range(of: "<name>"), let nameEnd = xml.range(of: "</name>"),
              let devices = xml.range(of: "<devices>"), let devicesEnd = xml.range(of: "</devices>") else {
            throw RVBenchError(.format, "no <name> or <devices> in the generated XML")
        }
        return "<domain type='test'>\n  <name>\(xml[name.upperBound ..< nameEnd.lowerBound])</name>\n"
            + "  <memory unit='MiB'>64</memory>\n  <os><type>hvm</type></os>\n"
            + "  \(xml[devices.lowerBound ..< devicesEnd.upperBound])\n</domain>\n"
    }

    func create(xml: String, paused: Bool) throws -> any DomainHandle {
        let domain = try inner.create(xml: try Self.forTestDriver(xml), paused: paused)
        let live = try domain.xml()
        lock.lock(); _generated.append(xml); _live.append(live); lock.unlock()
        return domain
    }

    func define(xml: String) throws -> any DomainHandle { try inner.define(xml: try Self.forTestDriver(xml)) }
    func lookup(name: String) throws -> (any DomainHandle)? { try inner.lookup(name: name) }
    func domainNames(includeInactive: Bool) throws -> [String] { try inner.domainNames(includeInactive: includeInactive) }
    func capabilities() throws -> String { try inner.capabilities() }
    func domainCapabilities(arch: String, machine: String, virtType: String) throws -> String {
        try inner.domainCapabilities(arch: arch, machine: machine, virtType: virtType)
    }
    func versions() throws -> HypervisorVersions { try inner.versions() }
    func isAlive() -> Bool { inner.isAlive() }
}

/// Recorded probe facts: the host-can fixture (made from workloads/probe/fixtures/sysfs/host-can).
struct FixtureFacts: HostFactsSource {
    let recorded: ProbeFacts
    func facts() async throws -> ProbeFacts { recorded }
    func kvmStatsSnapshot() async throws -> KVMStatsSnapshot {
        throw RVBenchError(.unsupported, "the fixture host has no KVM statistics")
    }
}

/// The executor on a runnable-host fixture: a passthrough boot's domain carries the device preflight resolved.
@Suite struct PassthroughRunTests {
    static let address = PCIAddress(domain: 0, bus: 0, slot: 3, function: 0)!

    static func hostCan() throws -> ProbeFacts {
        let url = Fixtures.repository.appendingPathComponent("Tests/ProbeTests/Fixtures/facts/host-can.json")
        return try ProbeFacts.decode(try Data(contentsOf: url))
    }

    @Test func thePassthroughBootsDomainAndTheManifestCarryTheResolvedHostdev() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let facts = try Self.hostCan()
        let driver = try RecordingTestDriver()
        let host = AttachedHost(
            hypervisor: driver, target: SSHTarget(host: "fixture.invalid"), probe: FixtureFacts(recorded: facts),
            facts: facts.manifestHostFacts(kind: "runnable-host fixture", emulated: false, libvirtURI: driver.uri),
            offer: HostOffer(facts: facts, workloadDevice: "/dev/vdb", layout: .lab))
        let executor = HostBackedExecutor(host: HostExecutor(attached: host, logger: Logger(label: "test")))
        let spec = Fixtures.spec(variants: [
            VariantSpec(name: "pt", kind: .passthrough, device: PCIDeviceSelector(string: "1b36:0010"), baseline: true),
        ], boots: 1, retries: 1)
        _ = try await RunSession.run(spec: spec, directory: dir, executor: executor, progress: SilentProgress(),
                                     logger: Logger(label: "test"), commandLine: ["test"])

        // Both attempts (the test driver has no console, so each boot fails and is retried) had the device.
        #expect(driver.generated.count == 2)
        for xml in driver.generated { #expect(DomainXML.hostdevAddresses(in: xml) == [Self.address]) }
        for live in driver.live {
            #expect(live.contains("<hostdev mode='subsystem' type='pci' managed='yes'>"))
            #expect(DomainXML.hostdevAddresses(in: live) == [Self.address])
        }
        let saved = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("domains").path)
        #expect(saved.count == 2)
        for file in saved {
            let xml = try String(contentsOf: dir.appendingPathComponent("domains/\(file)"), encoding: .utf8)
            #expect(DomainXML.hostdevAddresses(in: xml) == [Self.address])
        }

        let manifest = try ResultsDirectory(url: dir).readManifest()
        #expect(manifest.plans["pt"]?.hostdev == Self.address && manifest.plans["pt"]?.iommuGroup == "2")
        #expect(DomainXML.hostdevAddresses(in: try #require(manifest.domains["pt"])) == [Self.address])
        // The host's own interrupt controller, from its probe, not a guest's setting.
        #expect(manifest.host.aiaMode == "aplic-imsic")

        // A failure the executor threw keeps its code; no domain of the run is left.
        let state = try Journal.replay(dir)
        #expect(state.failures.count == 2 && state.failures.allSatisfy { $0.errorCode == .library })
        let prefix = "rvbench-\(state.runID)-"
        #expect(try driver.domainNames(includeInactive: true).filter { $0.hasPrefix(prefix) }.isEmpty)
    }
}
