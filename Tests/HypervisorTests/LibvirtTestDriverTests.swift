// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Hypervisor
import Logging
import RVBenchCore
import Testing

/// Against the real libvirt library, with its in-process `test:///default` driver (no daemon).
@Suite struct LibvirtTestDriverTests {
    static let uri = "test:///default"
    let logger = Logger(label: "rvbench.tests.hypervisor")

    /// The test driver accepts `type='test'` domains with a bare hvm OS.
    static func testDomainXML(_ name: String) -> String {
        """
        <domain type='test'>
          <name>\(DomainXML.escape(name))</name>
          <memory unit='MiB'>64</memory>
          <os><type>hvm</type></os>
        </domain>
        """
    }

    struct BodyFailed: Error {}

    @Test func opensAndReportsVersions() throws {
        let hv = try LibvirtHypervisor(uri: Self.uri, logger: logger)
        #expect(hv.uri == Self.uri)
        #expect(hv.isAlive())
        let v = try hv.versions()
        #expect(v.hypervisorType.uppercased() == "TEST")
        #expect(v.libvirtLibrary.split(separator: ".").count == 3)
        #expect(v.libvirtLibrary.hasPrefix("9.") || v.libvirtLibrary.hasPrefix("1"))
        #expect(v.libvirtDaemon == nil)
        #expect(v.hypervisor != nil)
        #expect(try hv.capabilities().contains("<capabilities>"))
        hv.close()
        #expect(!hv.isAlive())
        #expect(throws: RVBenchError.self) { try hv.versions() }
    }

    @Test func definedDomainLifecycle() throws {
        let hv = try LibvirtHypervisor(uri: Self.uri, logger: logger)
        let name = uniqueDomainName("rvbench-lifecycle")
        let dom = try hv.define(xml: Self.testDomainXML(name))
        #expect(dom.name == name)
        #expect(try dom.state() == .shutoff)
        #expect(try hv.domainNames(includeInactive: true).contains(name))
        #expect(try !hv.domainNames(includeInactive: false).contains(name))

        try dom.start(paused: true)
        #expect(try dom.state() == .paused)
        #expect(try hv.domainNames(includeInactive: false).contains(name))
        try dom.resume()
        #expect(try dom.state() == .running)
        #expect(try dom.xml().contains("<name>\(name)</name>"))
        #expect(try dom.qemuPID() == nil)  // not the local QEMU driver

        try dom.destroy()
        #expect(try dom.state() == .shutoff)
        try dom.destroy()  // already inactive: no error
        try dom.undefine()
        #expect(try hv.lookup(name: name) == nil)
        try dom.undefine()  // already gone: no error
        try dom.destroy()
    }

    @Test func transientDomainIsGoneAfterDestroy() throws {
        let hv = try LibvirtHypervisor(uri: Self.uri, logger: logger)
        let name = uniqueDomainName("rvbench-transient")
        let dom = try hv.create(xml: Self.testDomainXML(name), paused: true)
        #expect(try dom.state() == .paused)
        let found = try #require(try hv.lookup(name: name))
        #expect(found.name == name)
        try dom.undefine()  // transient: nothing to undefine, no error
        #expect(try hv.lookup(name: name) != nil)
        try dom.destroy()
        #expect(try hv.lookup(name: name) == nil)
        try dom.destroy()
        try dom.undefine()
    }

    @Test(arguments: [false, true])
    func withDomainCleansUpOnReturn(persistent: Bool) async throws {
        try await withHypervisor(uri: Self.uri, logger: logger) { hv in
            let name = uniqueDomainName("rvbench-with")
            let state = try await withDomain(on: hv, xml: Self.testDomainXML(name), paused: true,
                                             persistent: persistent) { dom in
                try dom.state()
            }
            #expect(state == .paused)
            #expect(try hv.lookup(name: name) == nil)
            #expect(try !hv.domainNames(includeInactive: true).contains(name))
        }
    }

    @Test(arguments: [false, true])
    func withDomainCleansUpOnThrow(persistent: Bool) async throws {
        let hv = try LibvirtHypervisor(uri: Self.uri, logger: logger)
        let name = uniqueDomainName("rvbench-throw")
        await #expect(throws: BodyFailed.self) {
            try await withDomain(on: hv, xml: Self.testDomainXML(name), paused: false,
                                 persistent: persistent) { dom -> Int in
                #expect(try dom.state() == .running)
                #expect(try hv.lookup(name: name) != nil)
                throw BodyFailed()
            }
        }
        #expect(try hv.lookup(name: name) == nil)
    }

    @Test func withDomainCleansUpOnCancellation() async throws {
        let hv = try LibvirtHypervisor(uri: Self.uri, logger: logger)
        let name = uniqueDomainName("rvbench-cancel")
        let task = Task {
            try await withDomain(on: hv, xml: Self.testDomainXML(name), paused: true) { _ -> Int in
                try await Task.sleep(for: .seconds(3600))
                return 0
            }
        }
        // Wait until the domain exists, then cancel the body.
        let deadline = ContinuousClock.now + .seconds(300) // a hang guard; the suite may be starved of threads
        while try hv.lookup(name: name) == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(try hv.lookup(name: name) != nil)
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(try hv.lookup(name: name) == nil)
    }

    @Test func badURIErrorCarriesLibvirtsMessage() throws {
        let error = try #require(throws: RVBenchError.self) {
            _ = try LibvirtHypervisor(uri: "nosuchdriver:///nothing", logger: logger)
        }
        #expect(error.code == .library)
        #expect(error.message.hasPrefix("libvirt: "))
        // No local driver takes this URI, so libvirt asks libvirtd through its socket: libvirtd names the URI
        // it has no driver for; without a running libvirtd the client names the socket it could not reach.
        #expect(error.message.contains("nosuchdriver:///nothing") || error.message.contains("libvirt-sock"), "\(error.message)")
        #expect(error.message.range(of: #"\(\d+/\d+\)$"#, options: .regularExpression) != nil)
    }

    @Test func malformedXMLErrorCarriesLibvirtsMessage() throws {
        let hv = try LibvirtHypervisor(uri: Self.uri, logger: logger)
        let error = try #require(throws: RVBenchError.self) {
            _ = try hv.define(xml: "<domain type='test'><name>broken</name")
        }
        #expect(error.code == .library)
        #expect(error.message.hasPrefix("libvirt: "))
        // libvirt's parser names what it expected and points at the place.
        #expect(error.message.contains("expected '>'"))
        #expect(try hv.lookup(name: "broken") == nil)
    }

    @Test func domainCapabilitiesErrorsComeThroughTheFunnel() throws {
        let hv = try LibvirtHypervisor(uri: Self.uri, logger: logger)
        // The test driver does not implement domain capabilities; the failure must still be a
        // library error with libvirt's text, not a crash or an empty string.
        do {
            let xml = try hv.domainCapabilities(arch: "x86_64", machine: "pc", virtType: "test")
            #expect(xml.contains("<domainCapabilities>"))
        } catch let error as RVBenchError {
            #expect(error.code == .library)
            #expect(error.message.hasPrefix("libvirt: "))
        }
    }

    @Test func consoleIsRefusedByTheTestDriverThroughTheFunnel() throws {
        let hv = try LibvirtHypervisor(uri: Self.uri, logger: logger)
        let name = uniqueDomainName("rvbench-console")
        let dom = try hv.create(xml: Self.testDomainXML(name), paused: false)
        defer { try? dom.destroy() }
        let error = try #require(throws: RVBenchError.self) { _ = try dom.openConsole() }
        #expect(error.message.hasPrefix("libvirt: "))
    }

    @Test func domainsOutliveAClosedConnection() throws {
        let hv = try LibvirtHypervisor(uri: Self.uri, logger: logger)
        let name = uniqueDomainName("rvbench-outlive")
        let dom = try hv.create(xml: Self.testDomainXML(name), paused: false)
        hv.close()
        hv.close()
        #expect(try dom.state() == .running)
        try dom.destroy()
    }
}
