// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Testing
@testable import Experiment
import RVBenchCore
import Yams

@Suite struct SpecLimitsTests {
    static let valid = """
        name: mini
        seed: 7
        host: lab
        # a comment with [ and { that must not count
        variants:
          - {name: native, kind: native}
          - name: virtio
            kind: virtio
            vcpus: 1
        workloads: [x264-320, 'onnx-mobilenet']
        repetitions:
          boots: 2
          iterations: 3

        """

    /// The diagnostics of a rejected spec, or nil when it is accepted.
    func rejection(_ yaml: String, file: String = "deep.yaml") -> [SpecDiagnostic]? {
        switch ExperimentSpec.validate(yaml: yaml, file: file, catalogue: Fixtures.catalogue) {
        case .success: return nil
        case .failure(let error): return error.diagnostics
        }
    }

    /// Deeply nested specs, named so that a failure does not print thousands of brackets.
    enum Deep: String, CaseIterable, CustomTestStringConvertible {
        case flowSequences = "5,000 nested flow sequences"
        case flowMappings = "5,000 nested flow mappings"
        case blockSequences = "5,000 nested block sequences on one line"
        case unclosed = "100,000 unclosed brackets"

        var testDescription: String { rawValue }

        /// The spec's text after three top-level keys, and where the 65th level opens.
        var tail: (text: String, line: Int, column: Int) {
            switch self {
            case .flowSequences:
                return ("variants: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000), 4, 74)
            case .flowMappings:
                return ("variants: " + String(repeating: "{a: ", count: 5000) + "1" + String(repeating: "}", count: 5000), 4, 263)
            case .blockSequences:
                // `variants:` is level 1 and its first `-` shares its indentation; the 65th dash opens level 65.
                return ("variants:\n" + String(repeating: "- ", count: 5000) + "x", 5, 129)
            case .unclosed:
                return ("variants: " + String(repeating: "[", count: 100_000), 4, 74)
            }
        }
    }

    @Test("deep nesting is refused with a location before the YAML parser sees it", arguments: Deep.allCases)
    func deepNesting(_ deep: Deep) throws {
        let (tail, line, column) = deep.tail
        let yaml = "name: deep\nseed: 1\nhost: lab\n" + tail + "\n"
        let diagnostics = try #require(rejection(yaml))
        #expect(diagnostics.count == 1)
        let d = try #require(diagnostics.first)
        #expect(d.file == "deep.yaml" && d.line == line && d.column == column, "\(d)")
        #expect(d.message.contains("more than 64 levels deep"))
    }

    @Test func stairsOfIndentationCount() throws {
        var yaml = "name: deep\n"
        for level in 0..<80 { yaml += String(repeating: " ", count: level) + "k\(level):\n" }
        yaml += String(repeating: " ", count: 80) + "x\n"
        let d = try #require(rejection(yaml)?.first)
        #expect(d.line == 66 && d.message.contains("levels deep"), "\(d)")
    }

    @Test func bracketsInScalarsAndCommentsDoNotCount() {
        let brackets = String(repeating: "[{", count: 200)
        let yaml = Self.valid + """
            # \(brackets)
            notes: "\(brackets) \\" \(brackets)"
            more: '\(brackets) '' \(brackets)'
            plain: a \(brackets) b
            text: |
              \(brackets)
              # \(brackets)
            folded: >-
              \(brackets)

            """
        var scanner = YAMLNestingScanner(yaml, maxDepth: 64, maxAliases: 32)
        #expect(scanner.scan() == nil)
        // variants (1), its entries (2), the flow mapping of the first entry (3).
        #expect(scanner.deepest == 3)
    }

    /// Brackets that follow something looking like a quote, a comment or a block scalar, where libyaml
    /// reads them as structure all the same. Yams builds each of these trees; the scanner must count them.
    @Test("nesting hidden behind look-alike scalars is still counted", arguments: [
        "k: abc\n  'xyz\nother: @\n",            // the quote is inside a multi-line plain scalar
        "k: a 'b\nother: @ # '\n",                // so is this one
        "k: |\n    text\n  # not a comment at this depth\nother: @\n",
        "k: >\n text\nother: @\n",               // the block scalar ends where the indentation drops
        "k: a#b\nother: @\n",                     // '#' inside a plain scalar
        "k: \"a # b\" \nother: @\n",               // '#' inside a quoted scalar
        "- ['x', \"y\", @]\n",
        "k: !tag @\n",
        "k: &anchor @\n",
    ])
    func hiddenNesting(template: String) throws {
        let yaml = template.replacingOccurrences(of: "@", with: String(repeating: "[", count: 70) + String(repeating: "]", count: 70))
        let node = try #require(try Yams.compose(yaml: yaml))
        #expect(Self.treeDepth(node) > 64)
        var scanner = YAMLNestingScanner(yaml, maxDepth: 64, maxAliases: 32)
        #expect(scanner.scan()?.kind == .tooDeep)
    }

    @Test func aliasesAreCapped() throws {
        var yaml = "name: x\nbase: &b [1]\n"
        for i in 0..<33 { yaml += "k\(i): *b\n" }
        let d = try #require(rejection(yaml)?.first)
        #expect(d.line == 35 && d.column == 6 && d.message.contains("more than 32 aliases"), "\(d)")
    }

    @Test func theDeepestTreeThatAliasesAllowIsHandled() throws {
        // Each anchor nests the previous one 63 levels further down: 32 aliases reach about 2,000 levels.
        var yaml = "a0: &a0 x\n"
        for i in 1...32 {
            yaml += "a\(i): &a\(i) " + String(repeating: "[", count: 62) + "*a\(i - 1)" + String(repeating: "]", count: 62) + "\n"
        }
        let diagnostics = try #require(rejection(yaml))
        #expect(diagnostics.contains { $0.message.contains("unknown key") || $0.message.contains("missing key") })
    }

    @Test func oversizedSpecIsRefused() throws {
        let big = Self.valid + "# " + String(repeating: "x", count: SpecLimits.standard.maxBytes) + "\n"
        let d = try #require(rejection(big)?.first)
        #expect(d.message.contains("more than the limit of 1048576"))
        let error = try #require(throws: RVBenchError.self) {
            try ExperimentSpec.parse(data: Data(big.utf8), file: "big.yaml", catalogue: Fixtures.catalogue)
        }
        #expect(error.code == .badInput && error.message.hasPrefix("big.yaml:1:1: the spec is larger than the limit"))
    }

    @Test func textThatIsNotUTF8IsLocated() throws {
        let bytes = Data("name: x\nseed: 1\nhost: la".utf8) + Data([0xC3, 0x28]) + Data("b\n".utf8)
        let error = try #require(throws: RVBenchError.self) {
            try ExperimentSpec.parse(data: bytes, file: "bad.yaml", catalogue: Fixtures.catalogue)
        }
        #expect(error.code == .badInput && error.message == "bad.yaml:3:9: the spec is not UTF-8 text here; save it as UTF-8")
    }

    @Test func loadReadsNoMoreThanTheLimit() throws {
        // /dev/zero never ends: reading it whole would never return.
        let error = try #require(throws: RVBenchError.self) {
            try ExperimentSpec.load(from: URL(fileURLWithPath: "/dev/zero"), catalogue: Fixtures.catalogue)
        }
        #expect(error.code == .badInput && error.message.hasPrefix("/dev/zero:1:1: the spec is larger"))
    }

    /// How deep the tree that Yams builds is.
    static func treeDepth(_ node: Node) -> Int {
        switch node {
        case .scalar: return 0
        case .sequence(let s): return 1 + (s.map(treeDepth).max() ?? 0)
        case .mapping(let m): return 1 + (m.map { max(treeDepth($0.key), treeDepth($0.value)) }.max() ?? 0)
        }
    }

    /// Random byte edits of a valid spec, biased towards YAML's indicators. Every result is either a
    /// spec or a diagnostic with a position; none crashes, none takes long, and wherever Yams builds a
    /// tree, the scanner's depth bounds that tree's depth.
    @Test func fuzzedSpecsGiveASpecOrALocatedError() throws {
        var rng = Xoshiro256StarStar(seed: 0x5EED_0011)
        let base = Array(Self.valid.utf8)
        let alphabet = Array("[]{}'\"#|>-?:,&*! \n\t\\ax1".utf8) + [0xC3, 0xA9, 0xFF, 0x00, 0x0D]
        let clock = ContinuousClock()
        var accepted = 0, rejected = 0, composed = 0
        for round in 0..<1500 {
            var bytes = base
            for _ in 0...rng.below(8) {
                let at = rng.below(bytes.count + 1)
                switch rng.below(6) {
                case 0 where at < bytes.count: bytes[at] = alphabet[rng.below(alphabet.count)]
                case 1 where at < bytes.count: bytes.remove(at: at)
                case 2: bytes.insert(alphabet[rng.below(alphabet.count)], at: at)
                case 3 where at < bytes.count: bytes[at] ^= UInt8(1 << rng.below(8))
                case 4:
                    let run = [UInt8]("[{- ".utf8)[rng.below(4)]
                    bytes.insert(contentsOf: [UInt8](repeating: run, count: 1 + rng.below(3000)), at: at)
                default:
                    let from = rng.below(bytes.count), count = rng.below(40)
                    bytes.insert(contentsOf: bytes[from..<min(bytes.count, from + count)], at: at)
                }
            }
            let started = clock.now
            do {
                _ = try ExperimentSpec.parse(data: Data(bytes), file: "fuzz.yaml", catalogue: Fixtures.catalogue)
                accepted += 1
            } catch let error as RVBenchError {
                rejected += 1
                #expect(error.code == .badInput, "round \(round): \(error)")
                let validation = try #require(error.cause as? SpecValidationError, "round \(round): \(error)")
                #expect(!validation.diagnostics.isEmpty)
                for d in validation.diagnostics {
                    #expect(d.file == "fuzz.yaml" && d.line >= 1 && d.column >= 1, "round \(round): \(d)")
                }
            }
            #expect(clock.now - started < .seconds(5), "round \(round) took \(clock.now - started)")
            if let text = String(bytes: bytes, encoding: .utf8) {
                var scanner = YAMLNestingScanner(text, maxDepth: 64, maxAliases: 32)
                if scanner.scan() == nil, let node = try? Yams.compose(yaml: text) {
                    composed += 1
                    let depth = Self.treeDepth(node)
                    #expect(depth <= 2 * scanner.deepest + 1, "round \(round): tree \(depth), scanner \(scanner.deepest)")
                }
            }
        }
        // Seeded: 67 specs, 1433 rejections, and 310 texts that Yams composes and the scanner measured.
        #expect(accepted > 50 && rejected > 1000 && composed > 300)
    }
}

extension Xoshiro256StarStar {
    /// A number in 0..<n.
    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(nextBelow(UInt64(n))) }
}
