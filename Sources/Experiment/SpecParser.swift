// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Host
import Remote
import RVBenchCore
import Yams

extension ExperimentSpec {
    /// Reads and validates a spec file. `displayPath` is how the file is named in messages
    /// (default: the path as given).
    ///
    /// Throws `RVBenchError(.badInput)` whose message lists every problem as `file:line:column: message`
    /// and whose cause is a `SpecValidationError`.
    public static func load(from url: URL, displayPath: String? = nil,
                            catalogue: WorkloadCatalogue) throws -> ExperimentSpec {
        let shown = displayPath ?? url.path
        let data: Data
        do {
            // One byte past the limit is enough to refuse the file, and keeps /dev/zero from filling memory.
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            data = try handle.read(upToCount: SpecLimits.standard.maxBytes + 1) ?? Data()
        } catch {
            throw RVBenchError(.notFound, "cannot read the spec \(shown); check the path", cause: error)
        }
        return try parse(data: data, file: shown, catalogue: catalogue)
    }

    /// Parses and validates the bytes of a spec file: size, UTF-8, then `parse(yaml:file:catalogue:)`.
    public static func parse(data: Data, file: String, catalogue: WorkloadCatalogue) throws -> ExperimentSpec {
        let limit = SpecLimits.standard.maxBytes
        if data.count > limit {
            throw SpecValidationError(diagnostics: [SpecDiagnostic(
                file: file, line: 1, column: 1,
                message: "the spec is larger than the limit of \(limit) bytes; "
                    + "a spec needs a few kilobytes, so check that this is the right file")]).rvbenchError
        }
        guard let text = String(data: data, encoding: .utf8) else {
            let (line, column) = firstInvalidUTF8(in: data)
            throw SpecValidationError(diagnostics: [SpecDiagnostic(
                file: file, line: line, column: column,
                message: "the spec is not UTF-8 text here; save it as UTF-8")]).rvbenchError
        }
        return try parse(yaml: text, file: file, catalogue: catalogue)
    }

    /// 1-based line and column (in Unicode scalars) of the first byte that is not valid UTF-8.
    static func firstInvalidUTF8(in data: Data) -> (Int, Int) {
        var parser = Unicode.UTF8.ForwardParser()
        var bytes = data.makeIterator()
        var line = 1, column = 1
        while case .valid(let scalar) = parser.parseScalar(from: &bytes) {
            if scalar.count == 1 && scalar.first == UInt8(ascii: "\n") { line += 1; column = 1 } else { column += 1 }
        }
        return (line, column)
    }

    /// Parses and validates spec text. `file` names the spec in messages.
    ///
    /// Every problem is collected before throwing; see `load(from:displayPath:catalogue:)`.
    public static func parse(yaml: String, file: String, catalogue: WorkloadCatalogue) throws -> ExperimentSpec {
        switch validate(yaml: yaml, file: file, catalogue: catalogue) {
        case .success(let spec): return spec
        case .failure(let error): throw error.rvbenchError
        }
    }

    /// Like `parse`, but returns the diagnostics instead of throwing.
    public static func validate(yaml: String, file: String,
                                catalogue: WorkloadCatalogue) -> Result<ExperimentSpec, SpecValidationError> {
        let reader = SpecReader(file: file, catalogue: catalogue)
        if let problem = SpecLimits.standard.check(yaml: yaml, file: file) {
            return .failure(SpecValidationError(diagnostics: [problem]))
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            reader.diagnose(yamlError: error, yaml: yaml)
            return .failure(SpecValidationError(diagnostics: reader.diagnostics))
        }
        guard let root else {
            reader.report(line: 1, column: 1, "the spec is empty; expected a mapping with "
                + "name, seed, host, variants and workloads")
            return .failure(SpecValidationError(diagnostics: reader.diagnostics))
        }
        let spec = reader.readSpec(root, yaml: yaml)
        if let spec, reader.diagnostics.isEmpty { return .success(spec) }
        let sorted = reader.diagnostics.enumerated().sorted { a, b in
            (a.element.line, a.element.column, a.offset) < (b.element.line, b.element.column, b.offset)
        }.map(\.element)
        return .failure(SpecValidationError(diagnostics: sorted))
    }
}

/// Walks the composed YAML tree, keeping node positions for messages. Collects every problem.
final class SpecReader {
    let file: String
    let catalogue: WorkloadCatalogue
    private(set) var diagnostics: [SpecDiagnostic] = []

    init(file: String, catalogue: WorkloadCatalogue) {
        self.file = file
        self.catalogue = catalogue
    }

    // MARK: Reporting

    func report(line: Int, column: Int, _ message: String) {
        diagnostics.append(SpecDiagnostic(file: file, line: line, column: column, message: message))
    }

    func report(_ node: Node?, _ message: String) {
        let mark = node?.mark
        report(line: mark?.line ?? 1, column: mark?.column ?? 1, message)
    }

    func diagnose(yamlError error: any Error, yaml: String) {
        guard let error = error as? YamlError else {
            report(line: 1, column: 1, "invalid YAML: \(error)")
            return
        }
        func contextClause(_ context: YamlError.Context?) -> String {
            guard let context else { return "" }
            return " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
        }
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            report(line: mark.line, column: mark.column, "invalid YAML: \(problem)\(contextClause(context))")
        case .reader(let problem, let offset, _, _):
            let (line, column) = Self.position(ofUTF8Offset: offset ?? 0, in: yaml)
            report(line: line, column: column, "invalid YAML: \(problem)")
        default:
            report(line: 1, column: 1, "invalid YAML: \(error)")
        }
    }

    /// 1-based line and column (in Unicode scalars) of a UTF-8 byte offset.
    static func position(ofUTF8Offset offset: Int, in text: String) -> (Int, Int) {
        var line = 1, column = 1, consumed = 0
        for scalar in text.unicodeScalars {
            if consumed >= offset { break }
            consumed += String(scalar).utf8.count
            if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        return (line, column)
    }

    // MARK: Node accessors

    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// How a node is shown after "found": `"text"`, `nothing`, `a mapping`, `a list`.
    static func found(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            if isNull(node) { return "nothing" }
            let escaped = scalar.string.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
            return "\"\(escaped.count > 60 ? String(escaped.prefix(57)) + "..." : escaped)\""
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }

    func expected(_ what: String, for path: String, found node: Node) {
        report(node, "expected \(what) for \(path), found \(Self.found(node))")
    }

    /// A mapping's entries by key, after checking keys: unknown keys (with a suggestion), duplicates and
    /// missing required keys are reported. Nil when the node is not a mapping.
    func fields(_ node: Node, path: String, allowed: [String], required: [String],
                what: String = "a mapping") -> [String: (key: Node, value: Node)]? {
        guard case .mapping(let mapping) = node else {
            expected(what, for: path.isEmpty ? "the spec" : path, found: node)
            return nil
        }
        let place = path.isEmpty ? "at the top level" : "in \(path)"
        var result: [String: (key: Node, value: Node)] = [:]
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key, !Self.isNull(key) else {
                report(key, "expected a key name \(place), found \(Self.found(key))")
                continue
            }
            let name = scalar.string
            guard allowed.contains(name) else {
                let suggestion = Suggestion.closest(to: name, among: allowed)
                let tail = suggestion.map { "; did you mean \"\($0)\"?" }
                    ?? "; expected one of \(allowed.joined(separator: ", "))"
                report(key, "unknown key \"\(name)\" \(place)\(tail)")
                continue
            }
            if let first = result[name] {
                report(key, "duplicate key \"\(name)\" \(place) (first at line \(first.key.mark?.line ?? 0))")
                continue
            }
            result[name] = (key, value)
        }
        for name in required where result[name] == nil {
            report(node, "missing key \"\(name)\" \(place)")
        }
        return result
    }

    func string(_ node: Node, path: String) -> String? {
        guard case .scalar(let scalar) = node, !Self.isNull(node) else {
            expected("a string", for: path, found: node)
            return nil
        }
        return scalar.string
    }

    /// A plain-scalar integer in `range`.
    func integer(_ node: Node, path: String, range: ClosedRange<Int>) -> Int? {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any,
              let value = Int(scalar.string) else {
            expected("an integer", for: path, found: node)
            return nil
        }
        return check(value, in: range, path: path, node: node)
    }

    /// A plain-scalar number (integer or decimal) in `range`.
    func number(_ node: Node, path: String, range: ClosedRange<Double>, openLower: Bool = false) -> Double? {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any,
              let value = Double(scalar.string), value.isFinite else {
            expected("a number", for: path, found: node)
            return nil
        }
        if openLower, value <= range.lowerBound {
            report(node, "\(path) must be greater than \(Self.show(range.lowerBound)), found \(scalar.string)")
            return nil
        }
        guard range.contains(value) else {
            let bound = value < range.lowerBound ? "at least \(Self.show(range.lowerBound))"
                : "at most \(Self.show(range.upperBound))"
            report(node, "\(path) must be \(bound), found \(scalar.string)")
            return nil
        }
        return value
    }

    static func show(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
    }

    func check(_ value: Int, in range: ClosedRange<Int>, path: String, node: Node) -> Int? {
        if value < range.lowerBound {
            report(node, "\(path) must be at least \(range.lowerBound), found \(value)")
            return nil
        }
        if value > range.upperBound {
            report(node, "\(path) must be at most \(range.upperBound), found \(value)")
            return nil
        }
        return value
    }

    func bool(_ node: Node, path: String) -> Bool? {
        if case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any {
            switch scalar.string {
            case "true", "True", "TRUE": return true
            case "false", "False", "FALSE": return false
            default: break
            }
        }
        expected("true or false", for: path, found: node)
        return nil
    }

    func choice<T: RawRepresentable & CaseIterable>(_ node: Node, path: String, as: T.Type) -> T?
        where T.RawValue == String {
        let allowed = T.allCases.map(\.rawValue)
        guard case .scalar(let scalar) = node, !Self.isNull(node) else {
            expected("one of \(allowed.joined(separator: ", "))", for: path, found: node)
            return nil
        }
        if let value = T(rawValue: scalar.string) { return value }
        report(node, "unknown value \"\(scalar.string)\" for \(path); expected one of \(allowed.joined(separator: ", "))"
            + Suggestion.clause(for: scalar.string, among: allowed))
        return nil
    }

    /// Letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most 64 characters:
    /// names end up in domain names, file names and report anchors.
    func identifier(_ node: Node, path: String) -> String? {
        guard let text = string(node, path: path) else { return nil }
        let ok = !text.isEmpty && text.count <= 64
            && text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0" ... "9").contains($0)
                || $0 == "." || $0 == "_" || $0 == "-") }
            && (text.unicodeScalars.first.map { $0.properties.isAlphabetic || ("0" ... "9").contains($0) } ?? false)
        guard ok else {
            report(node, "expected a name of letters, digits, '.', '_' and '-' (starting with a letter or digit, "
                + "at most 64 characters) for \(path), found \(Self.found(node))")
            return nil
        }
        return text
    }

    /// The items of a list that must not be empty; `ifEmpty` says what to list when it is.
    func nonEmptySequence(_ node: Node, path: String, what: String, ifEmpty: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            expected(what, for: path, found: node)
            return nil
        }
        if sequence.isEmpty {
            report(node, "\(path) is empty; \(ifEmpty)")
            return nil
        }
        return Array(sequence)
    }

    // MARK: The spec

    static let topKeys = ["name", "seed", "host", "qemu", "deterministic", "variants", "workloads", "repetitions",
                          "counters", "measure_counter_overhead", "timeouts", "retries", "stats"]

    func readSpec(_ root: Node, yaml: String) -> ExperimentSpec? {
        guard let top = fields(root, path: "", allowed: Self.topKeys,
                               required: ["name", "seed", "host", "variants", "workloads"],
                               what: "a mapping with name, seed, host, variants and workloads") else { return nil }
        let name = top["name"].flatMap { identifier($0.value, path: "name") }
        var seed: UInt64?
        if let node = top["seed"]?.value {
            if case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any,
               let value = UInt64(scalar.string) {
                seed = value
            } else {
                expected("a non-negative integer", for: "seed", found: node)
            }
        }
        let host = top["host"].flatMap { readHost($0.value, qemu: top["qemu"], deterministic: top["deterministic"]) }
        let variants = top["variants"].flatMap { readVariants($0.value) }
        let workloads = top["workloads"].flatMap { readWorkloads($0.value) }
        let repetitions = top["repetitions"].map { readRepetitions($0.value) } ?? RepetitionPolicy()
        let counters = top["counters"].map { readCounters($0.value) } ?? []
        var measureOverhead = false
        if let entry = top["measure_counter_overhead"], let value = bool(entry.value, path: "measure_counter_overhead") {
            measureOverhead = value
            if value, counters.isEmpty, top["counters"].map({ !Self.isNull($0.value) }) ?? true {
                report(entry.value, "measure_counter_overhead needs counters; list the events under counters "
                    + "or set it to false")
            }
        }
        let timeouts = top["timeouts"].map { readTimeouts($0.value) } ?? Timeouts()
        let retries = top["retries"].map { readRetries($0.value) } ?? RetryPolicy()
        let stats = top["stats"].map { readStats($0.value) } ?? StatsSettings()

        if let host, case .remote(let remote) = host, remote.ssh == nil, let variants,
           let native = variants.first(where: { $0.kind == .native }), let hostNode = top["host"]?.value {
            report(hostNode, "host.ssh is needed to run the native variant \"\(native.name)\" on a remote host; "
                + "add ssh: user@board:22")
        }
        guard let name, let seed, let host, let variants, let workloads else { return nil }
        return ExperimentSpec(name: name, seed: seed, host: host, variants: variants, workloads: workloads,
                              repetitions: repetitions, counters: counters, measureCounterOverhead: measureOverhead,
                              timeouts: timeouts, retries: retries, stats: stats,
                              source: SpecSource(path: file, yaml: yaml))
    }

    func readHost(_ node: Node, qemu: (key: Node, value: Node)?,
                  deterministic: (key: Node, value: Node)?) -> HostSpec? {
        if case .scalar(let scalar) = node, !Self.isNull(node) {
            guard scalar.string == "lab" else {
                report(node, "expected lab or a mapping with uri and ssh for host, found \(Self.found(node))"
                    + Suggestion.clause(for: scalar.string, among: ["lab"]))
                return nil
            }
            var options = LabOptions()
            if let qemu, let value = choice(qemu.value, path: "qemu", as: QEMUFlavour.self) { options.qemu = value }
            if let deterministic, let value = bool(deterministic.value, path: "deterministic") {
                options.deterministic = value
            }
            return .lab(options)
        }
        guard case .mapping = node else {
            expected("lab or a mapping with uri and ssh", for: "host", found: node)
            return nil
        }
        for entry in [qemu, deterministic].compactMap({ $0 }) {
            report(entry.key, "\(entry.key.scalar?.string ?? "") applies only to host: lab; remove it for a remote host")
        }
        guard let host = fields(node, path: "host", allowed: ["uri", "ssh", "identity"], required: ["uri"]) else {
            return nil
        }
        var uri: String?
        if let node = host["uri"]?.value, let text = string(node, path: "host.uri") {
            if Self.isLibvirtURI(text) {
                uri = text
            } else {
                report(node, "expected a libvirt URI such as qemu+ssh://root@board/system for host.uri, "
                    + "found \(Self.found(node))")
            }
        }
        var ssh: SSHTarget?
        if let node = host["ssh"]?.value, let text = string(node, path: "host.ssh") {
            ssh = SSHTarget(string: text)
            if ssh == nil {
                report(node, "expected [user@]host[:port] such as root@board:22 for host.ssh, found \(Self.found(node))")
            }
        }
        let identity = host["identity"].flatMap { string($0.value, path: "host.identity") }
        guard let uri else { return nil }
        return .remote(RemoteHost(uri: uri, ssh: ssh, identity: identity))
    }

    /// `scheme://[authority]/path[?query]` with a scheme of lowercase letters, digits and `+`.
    static func isLibvirtURI(_ text: String) -> Bool {
        guard let range = text.range(of: "://") else { return false }
        let scheme = text[..<range.lowerBound]
        let rest = text[range.upperBound...]
        return !scheme.isEmpty
            && scheme.unicodeScalars.allSatisfy { ("a" ... "z").contains($0) || ("0" ... "9").contains($0) || $0 == "+" }
            && rest.contains("/") && !text.contains(where: \.isWhitespace)
    }

    // MARK: Variants

    static let variantKeys = ["name", "kind", "vcpus", "memory_mib", "cpu", "aia", "machine", "device", "vdpa_source",
                              "baseline"]
    static let guestOnlyKeys = ["vcpus", "memory_mib", "cpu", "aia", "machine"]

    func readVariants(_ node: Node) -> [VariantSpec]? {
        guard let items = nonEmptySequence(node, path: "variants", what: "a list of variants",
                                           ifEmpty: "list at least one variant, e.g. native and virtio") else { return nil }
        var variants: [VariantSpec] = []
        var complete = true
        var firstLine: [String: Int] = [:]
        var baselineNodes: [(String, Node)] = []
        for (index, item) in items.enumerated() {
            let path = "variants[\(index)]"
            guard let f = fields(item, path: path, allowed: Self.variantKeys, required: ["name", "kind"]) else {
                complete = false
                continue
            }
            let name = f["name"].flatMap { identifier($0.value, path: "\(path).name") }
            if let name, let node = f["name"]?.value {
                if let line = firstLine[name] {
                    report(node, "duplicate variant name \"\(name)\" (first at line \(line)); give each variant its own name")
                    complete = false
                } else {
                    firstLine[name] = node.mark?.line ?? 0
                }
            }
            let kind = f["kind"].flatMap { choice($0.value, path: "\(path).kind", as: VariantKind.self) }
            var isBaseline = false
            if let node = f["baseline"]?.value, let value = bool(node, path: "\(path).baseline") {
                isBaseline = value
                if value { baselineNodes.append((name ?? "variants[\(index)]", node)) }
            }
            guard let name, let kind else {
                complete = false
                continue
            }
            var variant = VariantSpec(name: name, kind: kind)
            if kind == .native {
                for key in Self.guestOnlyKeys + ["device", "vdpa_source"] where f[key] != nil {
                    report(f[key]!.key, "\(key) does not apply to the native variant \"\(name)\"; remove it")
                }
            } else {
                if let node = f["vcpus"]?.value, let value = integer(node, path: "\(path).vcpus", range: 1 ... 512) {
                    variant.vcpus = value
                }
                if let node = f["memory_mib"]?.value,
                   let value = integer(node, path: "\(path).memory_mib", range: 64 ... 16_777_216) {
                    variant.memoryMiB = value
                }
                if let node = f["cpu"]?.value, let value = string(node, path: "\(path).cpu") { variant.cpu = value }
                if let node = f["aia"]?.value, let value = choice(node, path: "\(path).aia", as: AIAMode.self) {
                    variant.aia = value
                }
                if let node = f["machine"]?.value, let value = string(node, path: "\(path).machine") {
                    variant.machine = value
                }
                if kind == .passthrough {
                    if let node = f["device"]?.value {
                        variant.device = readDevice(node, path: "\(path).device")
                    } else {
                        report(item, "missing key \"device\" in \(path); a passthrough variant needs the PCI device "
                            + "to assign, e.g. device: 0000:01:00.0")
                    }
                } else if let entry = f["device"] {
                    report(entry.key, "device applies only to passthrough variants; remove it from \"\(name)\"")
                }
                if kind == .vdpa {
                    if let node = f["vdpa_source"]?.value,
                       let value = choice(node, path: "\(path).vdpa_source", as: VDPASource.self) {
                        variant.vdpaSource = value
                    }
                } else if let entry = f["vdpa_source"] {
                    report(entry.key, "vdpa_source applies only to vdpa variants; remove it from \"\(name)\"")
                }
            }
            variant.baseline = isBaseline
            variants.append(variant)
        }
        if baselineNodes.count > 1 {
            let names = baselineNodes.map { "\"\($0.0)\"" }.joined(separator: ", ")
            for (_, node) in baselineNodes.dropFirst() {
                report(node, "more than one baseline (\(names)); mark exactly one variant baseline: true")
            }
            return nil
        }
        guard complete else { return nil }
        if baselineNodes.isEmpty {
            let natives = variants.indices.filter { variants[$0].kind == .native }
            if natives.count == 1 {
                variants[natives[0]].baseline = true
            } else {
                let why = natives.isEmpty ? "there is no native variant" : "there is more than one native variant"
                report(node, "no baseline variant and \(why) to default to; mark one variant baseline: true")
                return nil
            }
        }
        return variants
    }

    func readDevice(_ node: Node, path: String) -> PCIDeviceSelector? {
        if case .scalar(let scalar) = node, !Self.isNull(node) {
            let text = scalar.string.lowercased()
            guard case .address(let address)? = PCIDeviceSelector(string: text), text.split(separator: ":").count == 3 else {
                report(node, "expected a PCI address such as 0000:01:00.0, or {vendor, device, index}, for \(path), "
                    + "found \(Self.found(node))")
                return nil
            }
            return .address(address)
        }
        guard let f = fields(node, path: path, allowed: ["vendor", "device", "index"], required: ["vendor", "device"],
                             what: "a PCI address such as 0000:01:00.0, or {vendor, device, index}") else { return nil }
        func hexID(_ key: String) -> String? {
            guard let node = f[key]?.value, let text = string(node, path: "\(path).\(key)") else { return nil }
            guard text.count == 4, text.allSatisfy(\.isHexDigit) else {
                report(node, "expected 4 hex digits such as 1af4 for \(path).\(key), found \(Self.found(node))")
                return nil
            }
            return text.lowercased()
        }
        let vendor = hexID("vendor"), device = hexID("device")
        var index = 0
        if let node = f["index"]?.value {
            guard let value = integer(node, path: "\(path).index", range: 0 ... 255) else { return nil }
            index = value
        }
        guard let vendor, let device else { return nil }
        return .id(vendor: vendor, device: device, index: index)
    }

    // MARK: Workloads

    func readWorkloads(_ node: Node) -> [WorkloadSpec]? {
        guard let items = nonEmptySequence(node, path: "workloads", what: "a list of workloads",
                                           ifEmpty: "list at least one workload from the catalogue (\(catalogueList))")
        else { return nil }
        var workloads: [WorkloadSpec] = []
        var complete = true
        var firstLine: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            let path = "workloads[\(index)]"
            let nameNode: Node
            var f: [String: (key: Node, value: Node)] = [:]
            if case .scalar = item, !Self.isNull(item) {
                nameNode = item  // shorthand: "- x264-320"
            } else {
                guard let read = fields(item, path: path, allowed: ["name", "params", "metric", "direction"],
                                        required: ["name"], what: "a workload name or a mapping with name"),
                      let node = read["name"]?.value else {
                    complete = false
                    continue
                }
                f = read
                nameNode = node
            }
            guard let name = string(nameNode, path: "\(path).name") else {
                complete = false
                continue
            }
            guard let entry = catalogue.entry(named: name) else {
                report(nameNode, "unknown workload \"\(name)\" for \(path).name"
                    + Suggestion.clause(for: name, among: catalogue.names) + " (the catalogue has: \(catalogueList))")
                complete = false
                continue
            }
            if let line = firstLine[name] {
                report(nameNode, "duplicate workload \"\(name)\" (first at line \(line)); list each workload once")
                complete = false
                continue
            }
            firstLine[name] = nameNode.mark?.line ?? 0
            var params: [String: ParameterValue] = [:]
            if let node = f["params"]?.value {
                params = readParams(node, path: "\(path).params", entry: entry) ?? [:]
            }
            var metric = entry.defaultMetric
            if let node = f["metric"]?.value, let text = string(node, path: "\(path).metric") {
                if text.isEmpty || text.contains(where: \.isWhitespace) {
                    report(node, "expected a metric name without spaces, such as wall_ns or fps, for \(path).metric, "
                        + "found \(Self.found(node))")
                } else if let known = entry.knownMetrics, !known.contains(text) {
                    report(node, "unknown metric \"\(text)\" for \(path).metric"
                        + Suggestion.clause(for: text, among: known)
                        + " (\(name) reports \(known.joined(separator: ", ")))")
                } else {
                    metric = text
                }
            }
            var direction = entry.direction(of: metric)
            if let node = f["direction"]?.value, let value = choice(node, path: "\(path).direction", as: Direction.self) {
                direction = value
            }
            workloads.append(WorkloadSpec(name: name, kind: entry.kind, params: params, metric: metric,
                                          direction: direction, metricKinds: entry.metricKinds,
                                          readsDataDisk: entry.readsDataDisk))
        }
        return complete ? workloads : nil
    }

    var catalogueList: String {
        catalogue.names.isEmpty ? "nothing; build the workloads first" : catalogue.names.joined(separator: ", ")
    }

    func readParams(_ node: Node, path: String, entry: WorkloadCatalogue.Entry) -> [String: ParameterValue]? {
        guard case .mapping(let mapping) = node else {
            expected("a mapping of parameter names to values", for: path, found: node)
            return nil
        }
        var params: [String: ParameterValue] = [:]
        for (key, value) in mapping {
            guard let name = key.scalar?.string, !Self.isNull(key) else {
                report(key, "expected a parameter name in \(path), found \(Self.found(key))")
                continue
            }
            if let known = entry.parameters, !known.contains(name) {
                let tail = Suggestion.closest(to: name, among: known).map { "; did you mean \"\($0)\"?" }
                    ?? (known.isEmpty ? "; it takes no parameters" : "; expected one of \(known.joined(separator: ", "))")
                report(key, "unknown parameter \"\(name)\" for workload \"\(entry.name)\" in \(path)\(tail)")
                continue
            }
            if params[name] != nil {
                report(key, "duplicate parameter \"\(name)\" in \(path)")
                continue
            }
            defer {
                // The workload disk is built with the manifest's defaults (and their expected outputs);
                // another value would be recorded but not run, so it is refused.
                if let value = params[name], let built = entry.parameterDefaults[name], !Self.same(value, built) {
                    report(key, "\(path).\(name) is \(value), but workloads run with the parameters they were built with "
                        + "(\(name): \(built)); change it in workloads/\(entry.name)/workload.json and rebuild the lab, "
                        + "or drop it from the spec")
                }
            }
            guard case .scalar(let scalar) = value, !Self.isNull(value) else {
                expected("a string, number or boolean", for: "\(path).\(name)", found: value)
                continue
            }
            let plain = scalar.style == .plain || scalar.style == .any
            if let type = entry.parameterTypes[name] {
                let shown = "\(path).\(name)"
                switch type {
                case .string:
                    params[name] = .string(scalar.string)
                case .integer:
                    if plain, let i = Int(scalar.string) { params[name] = .integer(i) } else {
                        expected("an integer (like the manifest's default)", for: shown, found: value)
                    }
                case .number:
                    if plain, let i = Int(scalar.string) {
                        params[name] = .integer(i)
                    } else if plain, let d = Double(scalar.string), d.isFinite {
                        params[name] = .number(d)
                    } else {
                        expected("a number (like the manifest's default)", for: shown, found: value)
                    }
                case .bool:
                    if let b = bool(value, path: shown) { params[name] = .bool(b) }
                }
                continue
            }
            if plain {
                if let i = Int(scalar.string) {
                    params[name] = .integer(i)
                } else if let d = Double(scalar.string), d.isFinite {
                    params[name] = .number(d)
                } else if ["true", "True", "TRUE"].contains(scalar.string) {
                    params[name] = .bool(true)
                } else if ["false", "False", "FALSE"].contains(scalar.string) {
                    params[name] = .bool(false)
                } else {
                    params[name] = .string(scalar.string)
                }
            } else {
                params[name] = .string(scalar.string)
            }
        }
        return params
    }

    /// Whether a spec value equals a manifest default given as text.
    static func same(_ value: ParameterValue, _ text: String) -> Bool {
        switch value {
        case .string(let s): return s == text
        case .integer(let i): return Double(text) == Double(i)
        case .number(let d): return Double(text) == d
        case .bool(let b): return b ? ["true", "1"].contains(text) : ["false", "0"].contains(text)
        }
    }

    // MARK: Policies

    func readRepetitions(_ node: Node) -> RepetitionPolicy {
        var policy = RepetitionPolicy()
        guard let f = fields(node, path: "repetitions",
                             allowed: ["boots", "min_boots", "max_boots", "iterations", "warmup", "target_ci_half_width"],
                             required: []) else { return policy }
        let boots = f["boots"].flatMap { integer($0.value, path: "repetitions.boots", range: 1 ... 10_000) }
        var minBoots = f["min_boots"].flatMap { integer($0.value, path: "repetitions.min_boots", range: 1 ... 10_000) }
        let maxBoots = f["max_boots"].flatMap { integer($0.value, path: "repetitions.max_boots", range: 1 ... 10_000) }
        if let bootsEntry = f["boots"], f["min_boots"] != nil {
            report(bootsEntry.key, "give either boots (a fixed count) or min_boots (with max_boots for an adaptive "
                + "count) in repetitions, not both")
        }
        minBoots = minBoots ?? boots ?? policy.minBoots
        policy.minBoots = minBoots!
        policy.maxBoots = maxBoots ?? policy.minBoots
        if let maxBoots, maxBoots < policy.minBoots, let node = f["max_boots"]?.value {
            report(node, "repetitions.max_boots must be at least \(policy.minBoots) (the minimum boots), found \(maxBoots)")
            policy.maxBoots = policy.minBoots
        }
        if let value = f["iterations"].flatMap({ integer($0.value, path: "repetitions.iterations", range: 1 ... 100_000) }) {
            policy.iterations = value
        }
        if let value = f["warmup"].flatMap({ integer($0.value, path: "repetitions.warmup", range: 0 ... 100_000) }) {
            policy.warmup = value
        }
        if let value = f["target_ci_half_width"].flatMap({
            number($0.value, path: "repetitions.target_ci_half_width", range: 0 ... 1, openLower: true)
        }) {
            policy.targetCIHalfWidth = value
        }
        return policy
    }

    func readCounters(_ node: Node) -> [String] {
        if case .scalar(let scalar) = node, scalar.string == "none" || Self.isNull(node) { return [] }
        guard case .sequence(let sequence) = node else {
            expected("a list of event names or none", for: "counters", found: node)
            return []
        }
        var events: [String] = []
        for (index, item) in sequence.enumerated() {
            guard let name = string(item, path: "counters[\(index)]") else { continue }
            if name.isEmpty || name.contains(where: \.isWhitespace) {
                report(item, "expected an event name without spaces, such as perf::CYCLES, for counters[\(index)], "
                    + "found \(Self.found(item))")
            } else if events.contains(name) {
                report(item, "duplicate counter \"\(name)\"; list each event once")
            } else {
                events.append(name)
            }
        }
        return events
    }

    func readTimeouts(_ node: Node) -> Timeouts {
        var timeouts = Timeouts()
        guard let f = fields(node, path: "timeouts", allowed: ["boot_s", "workload_s", "experiment_s"],
                             required: []) else { return timeouts }
        let limit = 7 * 86_400.0
        if let v = f["boot_s"].flatMap({ number($0.value, path: "timeouts.boot_s", range: 0 ... limit, openLower: true) }) {
            timeouts.bootSeconds = v
        }
        if let v = f["workload_s"].flatMap({
            number($0.value, path: "timeouts.workload_s", range: 0 ... limit, openLower: true)
        }) {
            timeouts.workloadSeconds = v
        }
        if let entry = f["experiment_s"], !Self.isNull(entry.value),
           let v = number(entry.value, path: "timeouts.experiment_s", range: 0 ... 366 * 86_400, openLower: true) {
            timeouts.experimentSeconds = v
        }
        return timeouts
    }

    func readRetries(_ node: Node) -> RetryPolicy {
        var retries = RetryPolicy()
        guard let f = fields(node, path: "retries", allowed: ["boot"], required: []) else { return retries }
        if let v = f["boot"].flatMap({ integer($0.value, path: "retries.boot", range: 0 ... 100) }) { retries.boot = v }
        return retries
    }

    func readStats(_ node: Node) -> StatsSettings {
        var stats = StatsSettings()
        guard let f = fields(node, path: "stats", allowed: ["threshold", "alpha", "resamples"], required: []) else {
            return stats
        }
        if let v = f["threshold"].flatMap({ number($0.value, path: "stats.threshold", range: 0 ... 0.999_999) }) {
            stats.threshold = v
        }
        if let v = f["alpha"].flatMap({ number($0.value, path: "stats.alpha", range: 0 ... 0.5, openLower: true) }) {
            stats.alpha = v
        }
        if let v = f["resamples"].flatMap({ integer($0.value, path: "stats.resamples", range: 100 ... 10_000_000) }) {
            stats.resamples = v
        }
        return stats
    }
}
