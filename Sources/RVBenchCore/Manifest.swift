// SPDX-License-Identifier: GPL-3.0-or-later

/// `manifest.json`: everything needed to run an experiment again and get the same answer.
///
/// Written once when a run starts (and rewritten atomically if facts are added later);
/// `rvbench reproduce` reads it back, checks the artifact hashes and re-runs the spec.
/// See docs/results-format.md for every field.
public struct Manifest: Codable, Sendable, Equatable {
    /// Format version of the results directory, "MAJOR.MINOR".
    public var schemaVersion: String
    /// Version of the rvbench that wrote the directory.
    public var rvbenchVersion: String
    /// The experiment's name, from the spec.
    public var experiment: String
    /// The spec exactly as given, and its hash.
    public var spec: SpecRecord
    /// The seed for scheduling and bootstrap resampling.
    public var seed: UInt64
    /// Every input artifact (kernels, initramfs, firmware, workload binaries, clips, models), by name.
    public var artifacts: [String: Artifact]
    /// Facts about the riscv64 host the variants ran on.
    public var host: HostFacts
    /// Versions of tools on the controller and host, by tool name (e.g. "swift", "gsl", "mmdebstrap").
    public var tools: [String: String]
    /// The libvirt domain XML of each variant, by variant name; absent for variants without a domain (native).
    public var domains: [String: String]
    /// What preflight resolved for each variant that could run (its devices), by variant name. Left out
    /// when empty, so manifests of runs without a probed host read as before.
    @OmittedWhenEmpty public var plans: [String: VariantPlan]
    /// The driver that held the host's assignable device (the lab's NVMe) in each boot attempt, by the
    /// attempt's domain name; left out when no boot used one.
    @OmittedWhenEmpty public var deviceBindings: [String: DeviceBinding]
    /// ISO-8601 UTC time the run started, e.g. "2026-11-26T15:00:00Z".
    public var createdAt: String
    /// The command line that produced the directory, one element per argument.
    public var commandLine: [String]
    /// Free-text remarks, e.g. "example generated from fixture samples, not a measurement".
    public var notes: [String]

    public init(schemaVersion: String = SchemaVersion.string, rvbenchVersion: String = RVBenchVersion.string,
                experiment: String, spec: SpecRecord, seed: UInt64, artifacts: [String: Artifact] = [:],
                host: HostFacts, tools: [String: String] = [:], domains: [String: String] = [:],
                plans: [String: VariantPlan] = [:], deviceBindings: [String: DeviceBinding] = [:], createdAt: String,
                commandLine: [String], notes: [String] = []) {
        self.schemaVersion = schemaVersion; self.rvbenchVersion = rvbenchVersion
        self.experiment = experiment; self.spec = spec; self.seed = seed; self.artifacts = artifacts
        self.host = host; self.tools = tools; self.domains = domains; self.plans = plans
        self.deviceBindings = deviceBindings
        self.createdAt = createdAt; self.commandLine = commandLine; self.notes = notes
    }

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case rvbenchVersion = "rvbench_version"
        case experiment, spec, seed, artifacts, host, tools, domains, plans
        case deviceBindings = "device_bindings"
        case createdAt = "created_at"
        case commandLine = "command_line"
        case notes
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        schemaVersion = try container.decode(String.self, forKey: .schemaVersion)
        try SchemaVersion.check(schemaVersion, in: "manifest.json")
        rvbenchVersion = try container.decode(String.self, forKey: .rvbenchVersion)
        experiment = try container.decode(String.self, forKey: .experiment)
        spec = try container.decode(SpecRecord.self, forKey: .spec)
        seed = try container.decode(UInt64.self, forKey: .seed)
        artifacts = try container.decodeIfPresent([String: Artifact].self, forKey: .artifacts) ?? [:]
        host = try container.decode(HostFacts.self, forKey: .host)
        tools = try container.decodeIfPresent([String: String].self, forKey: .tools) ?? [:]
        domains = try container.decodeIfPresent([String: String].self, forKey: .domains) ?? [:]
        plans = try container.decodeIfPresent([String: VariantPlan].self, forKey: .plans) ?? [:]
        deviceBindings = try container.decodeIfPresent([String: DeviceBinding].self, forKey: .deviceBindings) ?? [:]
        createdAt = try container.decode(String.self, forKey: .createdAt)
        commandLine = try container.decodeIfPresent([String].self, forKey: .commandLine) ?? []
        notes = try container.decodeIfPresent([String].self, forKey: .notes) ?? []
    }
}

/// The experiment spec as the user wrote it.
public struct SpecRecord: Codable, Sendable, Equatable {
    /// The spec file's path when it was read, as given on the command line; null when there was none.
    @NullableOrMissing public var path: String?
    /// The raw YAML text, byte for byte.
    public var yaml: String
    /// SHA-256 of the YAML text's UTF-8 bytes, 64 lowercase hex digits.
    public var sha256: String
    /// What the command line changed on top of the YAML (e.g. `run --deterministic`); `resume` and
    /// `reproduce` apply it again. Left out when empty.
    @OmittedWhenEmpty public var overrides: SpecOverrides

    public init(path: String? = nil, yaml: String, sha256: String, overrides: SpecOverrides = SpecOverrides()) {
        self.path = path; self.yaml = yaml; self.sha256 = sha256; self.overrides = overrides
    }

    /// A record for `yaml`, hashing it.
    public init(path: String? = nil, yaml: String, overrides: SpecOverrides = SpecOverrides()) {
        self.init(path: path, yaml: yaml, sha256: SHA256.hex(of: yaml), overrides: overrides)
    }

    enum CodingKeys: String, CodingKey {
        case path, yaml, sha256, overrides
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        path = try container.decodeIfPresent(String.self, forKey: .path)
        yaml = try container.decode(String.self, forKey: .yaml)
        sha256 = try container.decode(String.self, forKey: .sha256)
        overrides = try container.decodeIfPresent(SpecOverrides.self, forKey: .overrides) ?? SpecOverrides()
    }
}

/// Changes the command line makes to a spec, kept apart from its YAML text so that the recorded spec stays
/// byte for byte what the user wrote.
public struct SpecOverrides: Codable, Sendable, Equatable, EmptyCheckable {
    /// `run --deterministic`: the lab runs L0 with `-icount` and one hart (which needs QEMU 10, `qemu: trixie`).
    public var deterministic: Bool

    public init(deterministic: Bool = false) {
        self.deterministic = deterministic
    }

    public var isEmpty: Bool { !deterministic }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        deterministic = try container.decodeIfPresent(Bool.self, forKey: .deterministic) ?? false
    }

    enum CodingKeys: String, CodingKey { case deterministic }
}

/// One input file of the experiment, identified by its content hash. KubeVirt bundles use the same
/// record for the files an image carries (`ImageFile`).
public struct Artifact: Codable, Sendable, Equatable {
    /// Where the file was when the run started (often inside the rvbench cache); for an image file,
    /// its path inside the image.
    public var path: String
    /// SHA-256 of the contents, 64 lowercase hex digits.
    public var sha256: String
    /// Size in bytes.
    public var bytes: Int64

    public init(path: String, sha256: String, bytes: Int64) {
        self.path = path; self.sha256 = sha256; self.bytes = bytes
    }

    enum CodingKeys: String, CodingKey {
        case path, sha256, bytes
    }
}

/// What is known about the riscv64 host. Facts that were not probed are nil (JSON null), never guessed.
public struct HostFacts: Codable, Sendable, Equatable {
    /// Human-readable host type, e.g. "emulated RISC-V host (QEMU TCG)" or "riscv64 board".
    public var kind: String
    /// True when the host is itself emulated, so timings are not silicon speed.
    public var emulated: Bool
    /// Machine architecture as `uname -m` prints it, e.g. "riscv64".
    public var arch: String
    /// Kernel release as `uname -r` prints it.
    @NullableOrMissing public var kernel: String?
    /// The ISA string from /proc/cpuinfo, e.g. "rv64imafdch_zicsr_..._sscofpmf".
    @NullableOrMissing public var isa: String?
    /// Interrupt controller mode: "aplic-imsic", "aplic", "plic" or similar.
    @NullableOrMissing public var aiaMode: String?
    /// `qemu-system-riscv64 --version` on the host (the one that runs guests).
    @NullableOrMissing public var qemuVersion: String?
    /// libvirt daemon version on the host.
    @NullableOrMissing public var libvirtVersion: String?
    /// Online CPUs of the host.
    @NullableOrMissing public var cpuCount: Int?
    /// Physical memory of the host in bytes.
    @NullableOrMissing public var memoryBytes: Int64?
    /// The libvirt URI the controller used, e.g. "qemu+tcp://127.0.0.1:16509/system".
    @NullableOrMissing public var libvirtURI: String?
    /// For an emulated host, how it was emulated, e.g. "qemu-system-riscv64 7.2 TCG on x86_64, 2 host cores".
    @NullableOrMissing public var emulator: String?

    public init(kind: String, emulated: Bool, arch: String, kernel: String? = nil, isa: String? = nil,
                aiaMode: String? = nil, qemuVersion: String? = nil, libvirtVersion: String? = nil,
                cpuCount: Int? = nil, memoryBytes: Int64? = nil, libvirtURI: String? = nil, emulator: String? = nil) {
        self.kind = kind; self.emulated = emulated; self.arch = arch; self.kernel = kernel; self.isa = isa
        self.aiaMode = aiaMode; self.qemuVersion = qemuVersion; self.libvirtVersion = libvirtVersion
        self.cpuCount = cpuCount; self.memoryBytes = memoryBytes; self.libvirtURI = libvirtURI
        self.emulator = emulator
    }

    enum CodingKeys: String, CodingKey {
        case kind, emulated, arch, kernel, isa
        case aiaMode = "aia_mode"
        case qemuVersion = "qemu_version"
        case libvirtVersion = "libvirt_version"
        case cpuCount = "cpu_count"
        case memoryBytes = "memory_bytes"
        case libvirtURI = "libvirt_uri"
        case emulator
    }
}
