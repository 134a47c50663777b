// swift-tools-version:6.0
// SPDX-License-Identifier: GPL-3.0-or-later
import PackageDescription

// Dependency arrows point one way:
//   rvbench -> CLI -> KubeVirt -> Experiment -> {Lab, Probe, Hypervisor, Counters, Report} -> Stats -> RVBenchCore
let package = Package(
    name: "rvbench",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "rvbench", targets: ["rvbench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams.git", .upToNextMajor(from: "5.0.1")),
    ],
    targets: [
        // C libraries, each behind exactly one Swift file.
        .systemLibrary(name: "CGSL", pkgConfig: "gsl", providers: [.apt(["libgsl-dev"])]),
        .systemLibrary(name: "CLibvirt", pkgConfig: "libvirt", providers: [.apt(["libvirt-dev"])]),
        .systemLibrary(name: "CPfm", providers: [.apt(["libpfm4-dev"])]),

        // Core models: samples, result schema, manifest, errors, exit codes, the guest line protocol.
        .target(name: "RVBenchCore"),
        // Statistics on GSL: descriptive stats, bootstrap CIs, tests, Holm, verdicts, stopping rule.
        .target(name: "Stats", dependencies: ["RVBenchCore", "CGSL"]),
        // Reports: pure functions from results to Markdown, HTML+SVG, CSV, JUnit and JSON bytes.
        .target(name: "Report", dependencies: ["RVBenchCore", "Stats"]),
        // Hypervisor: the libvirt C API behind a protocol; domain XML for each variant.
        .target(name: "Hypervisor", dependencies: [
            "RVBenchCore", "CLibvirt", .product(name: "Logging", package: "swift-log"),
        ]),
        // Counters: perf_event_open with libpfm4 event encoding, and remote probe counters.
        .target(name: "Counters", dependencies: [
            "RVBenchCore", "CPfm", .product(name: "Logging", package: "swift-log"),
        ]),
        // Probe: host facts (local, or remote through the rvbench-probe agent over SSH) and doctor checks.
        .target(name: "Probe", dependencies: [
            "RVBenchCore", "Counters", "Hypervisor", .product(name: "Logging", package: "swift-log"),
        ]),
        // Lab: build, boot and tear down the emulated riscv64 KVM host.
        .target(name: "Lab", dependencies: [
            "RVBenchCore", "Hypervisor", .product(name: "Logging", package: "swift-log"),
        ]),
        // Experiment: spec, schedule, journal, the run loop, resume and reproduce.
        .target(name: "Experiment", dependencies: [
            "RVBenchCore", "Stats", "Report", "Hypervisor", "Counters", "Probe", "Lab",
            .product(name: "Yams", package: "Yams"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // KubeVirt: a spec's schedule as VirtualMachineInstances, Jobs and OCI images; console logs back to results.
        .target(name: "KubeVirt", dependencies: [
            "RVBenchCore", "Report", "Lab", "Experiment", .product(name: "Logging", package: "swift-log"),
        ]),
        // CLI: one file per subcommand, so tests can run them.
        .target(name: "CLI", dependencies: [
            "RVBenchCore", "Stats", "Report", "Hypervisor", "Counters", "Probe", "Lab", "Experiment", "KubeVirt",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The thin executable.
        .executableTarget(name: "rvbench", dependencies: ["CLI"]),

        .testTarget(name: "CoreTests", dependencies: ["RVBenchCore"]),
        .testTarget(name: "StatsTests", dependencies: ["Stats", "RVBenchCore"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Stats", "RVBenchCore"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "HypervisorTests", dependencies: ["Hypervisor", "RVBenchCore"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "ProbeTests", dependencies: ["Probe", "Counters", "RVBenchCore"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "LabTests", dependencies: ["Lab", "Hypervisor", "RVBenchCore"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "ExperimentTests", dependencies: ["Experiment", "RVBenchCore", "Stats"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "CLITests", dependencies: ["CLI", "RVBenchCore"]),
        .testTarget(name: "KubeVirtTests", dependencies: ["KubeVirt", "Experiment", "Lab", "Report", "Stats", "RVBenchCore",
                                                          .product(name: "Logging", package: "swift-log")],
                    resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v6]
)
