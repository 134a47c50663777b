// SPDX-License-Identifier: GPL-3.0-or-later
import Experiment
import GuestWire
import Host
import Foundation
import KubeVirt
import Testing

/// rvbench's lint for the admission rules a schema cannot express.
struct LintTests {
    static let digest = "sha256:" + String(repeating: "ab", count: 32)

    static func builder(hostDevices: [String: HostDeviceMapping] = [:]) throws -> (ObjectBuilder, [ScheduledBoot]) {
        let spec = try KubeFixtures.spec("Tests/KubeVirtTests/Fixtures/specs/passthrough-cluster.yaml")
        var images: [BundleImage: ImageReference] = [:]
        for image in BundleImage.allCases { images[image] = ImageReference(repository: "r/rvbench-\(image.rawValue)", digest: digest) }
        var devices = hostDevices
        if devices.isEmpty, let v = spec.variant(named: "vfio_blk") { devices["vfio_blk"] = try HostDeviceMapping.map(v, ids: [:]) }
        return (ObjectBuilder(spec: spec, runID: "0123abcd", namespace: "rvbench", images: images, hostDevices: devices),
                Schedule(spec: spec).round(0))
    }

    static func vmi(_ variant: String) throws -> (KubeValue, Set<String>) {
        let (builder, boots) = try builder()
        let boot = try #require(boots.first { $0.variant.name == variant })
        return (builder.virtualMachineInstance(boot), Set(builder.hostDevices.values.map(\.resourceName)))
    }

    static let kernelBoot = ["spec", "domain", "firmware", "kernelBoot"]

    @Test func generatedObjectsHaveOnlyTheUpstreamArchitectureFinding() throws {
        let (builder, boots) = try Self.builder()
        let permitted = Set(builder.hostDevices.values.map(\.resourceName))
        for boot in boots where boot.variant.kind != .vdpa {
            if boot.variant.kind == .native {
                #expect(BundleLint.job(builder.job(boot)).isEmpty)
            } else {
                let findings = BundleLint.virtualMachineInstance(builder.virtualMachineInstance(boot), permitted: permitted)
                #expect(findings.map(\.field) == ["spec.architecture"])
                #expect(findings.allSatisfy { $0.severity == .upstream })
            }
        }
    }

    @Test func passthroughVMIAsksForThePermittedResource() throws {
        let (vmi, permitted) = try Self.vmi("vfio_blk")
        let devices = try #require(vmi.at(["spec", "domain", "devices", "hostDevices"])?.listValue)
        #expect(devices.count == 1)
        #expect(devices[0]["deviceName"]?.stringValue == "devices.rvbench.io/pci-1af4-1042")
        #expect(permitted == ["devices.rvbench.io/pci-1af4-1042"])
        #expect(vmi.at(["metadata", "name"])?.stringValue == "rvbench-0123abcd-vfio-blk-b0")
        #expect(vmi.at(["metadata", "annotations", "rvbench.io/variant-name"])?.stringValue == "vfio_blk")
        #expect(vmi.at(["spec", "domain", "cpu", "cores"]) == .int(2))
        #expect(vmi.at(["spec", "domain", "resources", "requests", "memory"])?.stringValue == "2048Mi")
    }

    @Test(arguments: [
        // (path, new value, field expected in a finding, words of its message)
        (["spec", "domain", "firmware", "kernelBoot", "container"], nil as KubeValue?,
         "spec.domain.firmware.kernelBoot.kernelArgs", "without an external kernel"),
        (["spec", "domain", "firmware", "kernelBoot", "container", "image"], .string(""),
         "spec.domain.firmware.kernelBoot.container.image", "must be defined with an image"),
        (["spec", "domain", "firmware", "kernelBoot", "container", "kernelPath"], nil,
         "", ""),
        (["spec", "domain", "firmware", "kernelBoot", "container", "kernelPath"], .string("boot/Image"),
         "spec.domain.firmware.kernelBoot.container.kernelPath", "absolute path"),
        (["spec", "domain", "firmware", "kernelBoot", "container", "initrdPath"], .string("/boot/../initramfs"),
         "spec.domain.firmware.kernelBoot.container.initrdPath", "without relative components"),
        (["spec", "domain", "firmware", "kernelBoot", "container", "initrdPath"], .string("/"),
         "spec.domain.firmware.kernelBoot.container.initrdPath", "must not point to root"),
        (["spec", "volumes"], .list([]), "spec.domain.devices.disks[0].name", "no volume"),
        (["spec", "domain", "devices", "logSerialConsole"], .bool(false), "spec.domain.devices.logSerialConsole", "must be true"),
        (["spec", "terminationGracePeriodSeconds"], .int(30), "spec.terminationGracePeriodSeconds", "must be 0"),
        (["spec", "nodeSelector"], nil, "spec.nodeSelector", "riscv64"),
        (["metadata", "labels", "rvbench.io/spec-sha256"], .string(String(repeating: "a", count: 64)),
         "metadata.labels[rvbench.io/spec-sha256]", "not a valid label value"),
        (["metadata", "name"], .string("Rvbench_B0"), "metadata.name", "DNS-1123"),
    ] as [([String], KubeValue?, String, String)])
    func lintCatchesWhatTheWebhookRefuses(path: [String], value: KubeValue?, field: String, words: String) throws {
        let (vmi, permitted) = try Self.vmi("virtio")
        let broken = vmi.setting(path, to: value)
        #expect(broken != vmi)
        let findings = BundleLint.virtualMachineInstance(broken, permitted: permitted).filter { $0.severity == .error }
        if field.isEmpty {
            // Removing kernelPath alone is fine: initrdPath is still there.
            #expect(findings.isEmpty, "\(findings)")
            let both = broken.setting(Self.kernelBoot + ["container", "initrdPath"], to: nil)
            let again = BundleLint.virtualMachineInstance(both, permitted: permitted)
            #expect(again.contains { $0.message.contains("at least one of the following: kernelPath, initrdPath") })
        } else {
            #expect(findings.contains { $0.field == field && $0.message.contains(words) }, "\(findings)")
        }
    }

    @Test func hostDeviceNamesMustBePermitted() throws {
        let (vmi, permitted) = try Self.vmi("vfio_blk")
        #expect(BundleLint.virtualMachineInstance(vmi, permitted: permitted).filter { $0.severity == .error }.isEmpty)
        let findings = BundleLint.virtualMachineInstance(vmi, permitted: ["nvidia.com/TU104GL"])
        #expect(findings.contains { $0.field == "spec.domain.devices.hostDevices[0].deviceName" && $0.message.contains("permittedHostDevices") })
    }

    @Test func jobLintWantsASingleRunOffPID1() throws {
        let (builder, boots) = try Self.builder()
        let job = builder.job(try #require(boots.first { $0.variant.kind == .native }))
        for (path, value) in [(["spec", "template", "spec", "shareProcessNamespace"], KubeValue.bool(false)),
                              (["spec", "backoffLimit"], .int(6)),
                              (["spec", "template", "spec", "nodeSelector"], .map([]))] {
            #expect(!BundleLint.job(job.setting(path, to: value)).isEmpty, "\(path)")
        }
    }

    @Test func namesAreDNSLabelsAndUnique() {
        #expect(KubeNames.dnsLabel("vfio_blk@no-counters") == "vfio-blk-no-counters")
        #expect(KubeNames.dnsLabel("__") == "x")
        let long = KubeNames.objectName(runID: "0123abcd", variant: String(repeating: "v", count: 64), boot: 123)
        #expect(long.count <= 63 && long.hasSuffix("-b123"))
    }

    @Test func yamlQuotesEveryStringAndEscapesControlCharacters() {
        let value: KubeValue = .map([("a", .string("yes")), ("b", .string("1.0")), ("c", .string("x\"\n\u{1b}")),
                                     ("d", .list([])), ("e", .map([])), ("f", .list([.string("-"), .int(3)]))])
        #expect(value.yaml() == "a: \"yes\"\nb: \"1.0\"\nc: \"x\\\"\\n\\u001b\"\nd: []\ne: {}\nf:\n- \"-\"\n- 3\n")
    }
}
