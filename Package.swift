// swift-tools-version:6.0
// SPDX-License-Identifier: GPL-3.0-or-later
import PackageDescription

// Dependency arrows point one way (every target also imports RVBenchCore); these are the targets' imports:
//   rvbench -> CLI -> {KubeVirt, Experiment, Host, Lab, Probe, Hypervisor, Counters, Remote, Stats, Report}
//   KubeVirt -> {Experiment, Host, GuestWire, Lab, Report}
//   Experiment -> {Host, GuestWire, Remote, Stats, Report}
//   Host -> {Hypervisor, Counters, Probe, Lab, GuestWire, Remote}
//   Probe -> {Counters, Hypervisor, Remote};  Lab -> {Hypervisor, Remote}
//   GuestWire, Remote, Stats, Report, Hypervisor, Counters -> RVBenchCore only (plus their C library, swift-log)
// Experiment's run loop and session name no hypervisor: they talk to a host through `VariantExecutor`.
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

        // Core models and support: samples, metric IDs, result schema, manifest, errors, exit codes, PCI addresses,
        // lab options, the append-only JSON-lines file, the line splitter of guest output, subprocesses, SHA-256.
        .target(name: "RVBenchCore"),
        // Remote: the one SSH target type, its ssh command lines and the remote shell.
        .target(name: "Remote", dependencies: ["RVBenchCore"]),
        // GuestWire: the runner's `@@rvbench v1` lines: one parser and one translator to boot events (lines split by
        // RVBenchCore's LineSplitter, the same one the console uses).
        .target(name: "GuestWire", dependencies: ["RVBenchCore"]),
        // Statistics on GSL: descriptive stats, bootstrap CIs, tests, Holm, verdicts, stopping rule.
        .target(name: "Stats", dependencies: ["RVBenchCore", "CGSL"]),
        // Reports: pure functions from results to Markdown, HTML+SVG, CSV, JUnit and JSON bytes.
        .target(name: "Report", dependencies: ["RVBenchCore"]),
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
            "RVBenchCore", "Counters", "Hypervisor", "Remote", .product(name: "Logging", package: "swift-log"),
        ]),
        // Lab: build, boot and tear down the emulated riscv64 KVM host (L0 behind `L0Backend`).
        .target(name: "Lab", dependencies: [
            "RVBenchCore", "Hypervisor", "Remote", .product(name: "Logging", package: "swift-log"),
        ]),
        // Host: runs boots of variants on a riscv64 host: preflight plans, native runs over SSH, guests through libvirt.
        .target(name: "Host", dependencies: [
            "RVBenchCore", "Hypervisor", "Counters", "Probe", "Lab", "GuestWire", "Remote",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Experiment (the run layer): spec, schedule, journal, the run loop and session, resume, reproduce, compare.
        .target(name: "Experiment", dependencies: [
            "RVBenchCore", "Stats", "Report", "Host", "GuestWire", "Remote",
            .product(name: "Yams", package: "Yams"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // KubeVirt: a spec's schedule as VirtualMachineInstances, Jobs and OCI images; console logs back to results.
        .target(name: "KubeVirt", dependencies: [
            "RVBenchCore", "Report", "Lab", "Host", "GuestWire", "Experiment", .product(name: "Logging", package: "swift-log"),
        ]),
        // CLI: one file per subcommand, so tests can run them.
        .target(name: "CLI", dependencies: [
            "RVBenchCore", "Stats", "Report", "Hypervisor", "Counters", "Probe", "Lab", "Remote", "Host", "Experiment", "KubeVirt",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The thin executable.
        .executableTarget(name: "rvbench", dependencies: ["CLI"]),

        .testTarget(name: "CoreTests", dependencies: ["RVBenchCore"]),
        .testTarget(name: "RemoteTests", dependencies: ["Remote", "RVBenchCore"]),
        .testTarget(name: "GuestWireTests", dependencies: ["GuestWire", "RVBenchCore"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "HostTests", dependencies: ["Host", "Hypervisor", "Probe", "Counters", "GuestWire", "Remote", "RVBenchCore"]),
        .testTarget(name: "StatsTests", dependencies: ["Stats", "RVBenchCore"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Stats", "RVBenchCore"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "HypervisorTests", dependencies: ["Hypervisor", "RVBenchCore"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "ProbeTests", dependencies: ["Probe", "Counters", "Remote", "RVBenchCore"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "LabTests", dependencies: ["Lab", "Hypervisor", "Remote", "RVBenchCore"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "ExperimentTests", dependencies: ["Experiment", "Host", "GuestWire", "Lab", "Hypervisor", "Probe", "Remote", "RVBenchCore", "Stats",
                                                            .product(name: "Yams", package: "Yams")],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "CLITests", dependencies: ["CLI", "RVBenchCore"]),
        .testTarget(name: "KubeVirtTests", dependencies: ["KubeVirt", "Experiment", "Host", "GuestWire", "Lab", "Report", "Stats", "RVBenchCore",
                                                          .product(name: "Logging", package: "swift-log")],
                    resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v6]
)
