// SPDX-License-Identifier: GPL-3.0-or-later

/// How large and how deeply nested a spec may be. Checked before the YAML parser sees the text:
/// the parser builds its tree recursively, so a few thousand nested brackets would overflow the
/// stack instead of producing an error.
public struct SpecLimits: Sendable, Equatable {
    /// The largest spec file, in bytes. Real specs are a few kilobytes.
    public var maxBytes: Int
    /// The deepest nesting of collections (flow brackets and block indentation levels together).
    public var maxDepth: Int
    /// The most aliases (`*name`). Each alias can repeat a whole nested collection.
    public var maxAliases: Int

    public init(maxBytes: Int = 1 << 20, maxDepth: Int = 64, maxAliases: Int = 32) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
        self.maxAliases = maxAliases
    }

    public static let standard = SpecLimits()

    /// The first limit `yaml` breaks, as a diagnostic with its position, or nil when it keeps them all.
    public func check(yaml: String, file: String) -> SpecDiagnostic? {
        let bytes = yaml.utf8.count
        if bytes > maxBytes {
            let (line, column) = SpecReader.position(ofUTF8Offset: maxBytes, in: yaml)
            return SpecDiagnostic(file: file, line: line, column: column,
                                  message: "the spec is \(bytes) bytes, more than the limit of \(maxBytes); "
                                      + "a spec needs a few kilobytes, so check that this is the right file")
        }
        var scanner = YAMLNestingScanner(yaml, maxDepth: maxDepth, maxAliases: maxAliases)
        guard let problem = scanner.scan() else { return nil }
        let message: String
        switch problem.kind {
        case .tooDeep:
            message = "the spec nests collections more than \(maxDepth) levels deep; "
                + "flatten it (a spec needs fewer than ten levels)"
        case .tooManyAliases:
            message = "the spec uses more than \(maxAliases) aliases (*name); write the values out instead"
        }
        return SpecDiagnostic(file: file, line: problem.line, column: problem.column, message: message)
    }
}

/// Measures how deeply YAML text nests, without building a tree and without recursion.
///
/// It follows libyaml's scanner (the one beneath Yams) token by token: quoted, plain and block
/// scalars end exactly where libyaml ends them, comments start where libyaml starts them, and the
/// block indentation stack rises and falls as libyaml's does (block entries, explicit keys, and
/// simple keys found when their `:` arrives). The depth it reports is the indentation stack plus
/// the flow level, which bounds the depth of the tree the parser would build. Where libyaml would
/// stop with an error, the scanner carries on; it can then only over-count, which is harmless.
struct YAMLNestingScanner {
    struct Problem: Equatable {
        enum Kind: Equatable { case tooDeep, tooManyAliases }
        var kind: Kind
        /// 1-based.
        var line: Int
        /// 1-based, in Unicode scalars.
        var column: Int
    }

    private struct SimpleKey {
        var index: Int
        var line: Int
        var column: Int
    }

    private let text: [Unicode.Scalar]
    private let maxDepth: Int
    private let maxAliases: Int

    /// Position, as libyaml counts it: `index` in characters (a CRLF counts two), 0-based line and column.
    private var pos = 0
    private var index = 0
    private var line = 0
    private var column = 0

    private var flowLevel = 0
    private var indent = -1
    private var indents: [Int] = []
    private var simpleKeyAllowed = true
    /// One slot per flow level, plus one for the block context.
    private var simpleKeys: [SimpleKey?] = [nil]
    private var aliases = 0
    /// The deepest nesting seen so far.
    private(set) var deepest = 0

    init(_ yaml: String, maxDepth: Int, maxAliases: Int) {
        self.text = Array(yaml.unicodeScalars)
        self.maxDepth = maxDepth
        self.maxAliases = maxAliases
    }

    /// The first place where the nesting exceeds `maxDepth` or the aliases exceed `maxAliases`, or nil.
    mutating func scan() -> Problem? {
        while true {
            skipToNextToken()
            dropStaleSimpleKeys()
            unrollIndent(to: column)
            guard pos < text.count else { return nil }
            let c = text[pos]
            let tokenLine = line, tokenColumn = column
            func tooDeep() -> Problem? {
                deepest = max(deepest, depth)
                return depth > maxDepth ? Problem(kind: .tooDeep, line: tokenLine + 1, column: tokenColumn + 1) : nil
            }
            if column == 0 && c == "%" {
                // A directive runs to the end of its line.
                unrollIndent(to: -1)
                simpleKeys[simpleKeys.count - 1] = nil
                simpleKeyAllowed = false
                while pos < text.count && !isBreak(at: pos) { advance() }
            } else if column == 0 && isDocumentMarker(at: pos) {
                unrollIndent(to: -1)
                simpleKeys[simpleKeys.count - 1] = nil
                simpleKeyAllowed = false
                advance(); advance(); advance()
            } else if c == "[" || c == "{" {
                saveSimpleKey()
                flowLevel += 1
                simpleKeys.append(nil)
                simpleKeyAllowed = true
                advance()
                if let problem = tooDeep() { return problem }
            } else if c == "]" || c == "}" {
                simpleKeys[simpleKeys.count - 1] = nil
                if flowLevel > 0 {
                    flowLevel -= 1
                    simpleKeys.removeLast()
                }
                simpleKeyAllowed = false
                advance()
            } else if c == "," {
                simpleKeys[simpleKeys.count - 1] = nil
                simpleKeyAllowed = true
                advance()
            } else if c == "-" && isBlankOrEnd(at: pos + 1) {
                rollIndent(to: column)
                simpleKeys[simpleKeys.count - 1] = nil
                simpleKeyAllowed = true
                advance()
                if let problem = tooDeep() { return problem }
            } else if c == "?" && (flowLevel > 0 || isBlankOrEnd(at: pos + 1)) {
                rollIndent(to: column)
                simpleKeys[simpleKeys.count - 1] = nil
                simpleKeyAllowed = flowLevel == 0
                advance()
                if let problem = tooDeep() { return problem }
            } else if c == ":" && (flowLevel > 0 || isBlankOrEnd(at: pos + 1)) {
                if let key = simpleKeys[simpleKeys.count - 1] {
                    rollIndent(to: key.column)
                    simpleKeys[simpleKeys.count - 1] = nil
                    simpleKeyAllowed = false
                } else {
                    rollIndent(to: column)
                    simpleKeyAllowed = flowLevel == 0
                }
                advance()
                if let problem = tooDeep() { return problem }
            } else if c == "*" || c == "&" {
                saveSimpleKey()
                simpleKeyAllowed = false
                if c == "*" {
                    aliases += 1
                    if aliases > maxAliases {
                        return Problem(kind: .tooManyAliases, line: tokenLine + 1, column: tokenColumn + 1)
                    }
                }
                advance()
                while pos < text.count && Self.isAnchorCharacter(text[pos]) { advance() }
            } else if c == "!" {
                saveSimpleKey()
                simpleKeyAllowed = false
                scanTag()
            } else if (c == "|" || c == ">") && flowLevel == 0 {
                simpleKeys[simpleKeys.count - 1] = nil
                simpleKeyAllowed = true
                scanBlockScalar()
            } else if c == "'" || c == "\"" {
                saveSimpleKey()
                simpleKeyAllowed = false
                scanQuotedScalar(single: c == "'")
            } else if startsPlainScalar(c) {
                saveSimpleKey()
                simpleKeyAllowed = false
                scanPlainScalar()
            } else {
                // libyaml stops here ("found character that cannot start any token").
                advance()
            }
        }
    }

    private var depth: Int { indents.count + flowLevel }

    // MARK: Characters

    private func char(at i: Int) -> Unicode.Scalar? { i < text.count ? text[i] : nil }

    private func isBreak(at i: Int) -> Bool {
        guard let c = char(at: i) else { return false }
        return c == "\n" || c == "\r" || c == "\u{85}" || c == "\u{2028}" || c == "\u{2029}"
    }

    private func isBlank(at i: Int) -> Bool {
        guard let c = char(at: i) else { return false }
        return c == " " || c == "\t"
    }

    /// Blank, line break or the end of the text (libyaml's `IS_BLANKZ`).
    private func isBlankOrEnd(at i: Int) -> Bool {
        i >= text.count || isBlank(at: i) || isBreak(at: i) || text[i] == "\0"
    }

    private func isDocumentMarker(at i: Int) -> Bool {
        guard let c = char(at: i), c == "-" || c == "." else { return false }
        return char(at: i + 1) == c && char(at: i + 2) == c && isBlankOrEnd(at: i + 3)
    }

    private static func isAnchorCharacter(_ c: Unicode.Scalar) -> Bool {
        ("0"..."9").contains(c) || ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "_" || c == "-"
    }

    /// The characters libyaml takes into a tag; `,`, `[` and `]` only inside `!<…>`.
    private static func isTagCharacter(_ c: Unicode.Scalar, verbatim: Bool) -> Bool {
        if isAnchorCharacter(c) { return true }
        if ";/?:@&=+$.%!~*'()".unicodeScalars.contains(c) { return true }
        return verbatim && (c == "," || c == "[" || c == "]")
    }

    private func startsPlainScalar(_ c: Unicode.Scalar) -> Bool {
        if !isBlankOrEnd(at: pos) && !"-?:,[]{}#&*!|>'\"%@`".unicodeScalars.contains(c) { return true }
        if c == "-" && !isBlank(at: pos + 1) { return true }
        return flowLevel == 0 && (c == "?" || c == ":") && !isBlankOrEnd(at: pos + 1)
    }

    // MARK: Moving

    private mutating func advance() {
        pos += 1
        index += 1
        column += 1
    }

    /// Steps over one line break (CRLF counts as one).
    private mutating func skipLineBreak() {
        if char(at: pos) == "\r" && char(at: pos + 1) == "\n" {
            pos += 2
            index += 2
        } else {
            pos += 1
            index += 1
        }
        line += 1
        column = 0
    }

    /// Whitespace, comments and line breaks up to the next token (libyaml's `scan_to_next_token`).
    private mutating func skipToNextToken() {
        while true {
            if column == 0 && char(at: pos) == "\u{FEFF}" { advance() }
            while char(at: pos) == " " || ((flowLevel > 0 || !simpleKeyAllowed) && char(at: pos) == "\t") {
                advance()
            }
            if char(at: pos) == "#" {
                while pos < text.count && !isBreak(at: pos) { advance() }
            }
            guard isBreak(at: pos) else { return }
            skipLineBreak()
            if flowLevel == 0 { simpleKeyAllowed = true }
        }
    }

    // MARK: Indentation and simple keys

    private mutating func rollIndent(to column: Int) {
        guard flowLevel == 0, indent < column else { return }
        indents.append(indent)
        indent = column
    }

    private mutating func unrollIndent(to column: Int) {
        guard flowLevel == 0 else { return }
        while indent > column, let previous = indents.popLast() { indent = previous }
    }

    private mutating func saveSimpleKey() {
        if simpleKeyAllowed {
            simpleKeys[simpleKeys.count - 1] = SimpleKey(index: index, line: line, column: column)
        }
    }

    /// A simple key ends with its line and may not be longer than 1024 characters.
    private mutating func dropStaleSimpleKeys() {
        for i in simpleKeys.indices {
            if let key = simpleKeys[i], key.line < line || key.index + 1024 < index { simpleKeys[i] = nil }
        }
    }

    // MARK: Scalars and tags

    private mutating func scanTag() {
        if char(at: pos + 1) == "<" {
            advance(); advance()
            while let c = char(at: pos), Self.isTagCharacter(c, verbatim: true) { advance() }
            if char(at: pos) == ">" { advance() }
        } else {
            advance()
            while let c = char(at: pos), Self.isTagCharacter(c, verbatim: false) { advance() }
        }
    }

    private mutating func scanQuotedScalar(single: Bool) {
        let quote: Unicode.Scalar = single ? "'" : "\""
        advance()
        while pos < text.count {
            while pos < text.count && !isBlank(at: pos) && !isBreak(at: pos) {
                let c = text[pos]
                if single && c == "'" && char(at: pos + 1) == "'" {
                    advance(); advance()
                } else if c == quote {
                    advance()
                    return
                } else if !single && c == "\\" && isBreak(at: pos + 1) {
                    advance()
                    skipLineBreak()
                    break
                } else if !single && c == "\\" {
                    advance()
                    if pos < text.count { advance() }
                } else {
                    advance()
                }
            }
            while isBlank(at: pos) || isBreak(at: pos) {
                if isBlank(at: pos) { advance() } else { skipLineBreak() }
            }
        }
    }

    private mutating func scanPlainScalar() {
        let minimumIndent = indent + 1
        var leadingBlanks = false
        scalar: while true {
            if column == 0 && isDocumentMarker(at: pos) { break }
            if char(at: pos) == "#" { break }
            while !isBlankOrEnd(at: pos) {
                let c = text[pos]
                if c == ":" && isBlankOrEnd(at: pos + 1) { break scalar }
                if flowLevel > 0 && (c == ":" || c == "," || c == "[" || c == "]" || c == "{" || c == "}") {
                    // A ':' followed by a flow indicator is an error in libyaml; stopping here counts more.
                    if c != ":" || "?,[]{}".unicodeScalars.contains(char(at: pos + 1) ?? " ") { break scalar }
                }
                leadingBlanks = false
                advance()
            }
            guard isBlank(at: pos) || isBreak(at: pos) else { break }
            while isBlank(at: pos) || isBreak(at: pos) {
                if isBlank(at: pos) {
                    advance()
                } else {
                    skipLineBreak()
                    leadingBlanks = true
                }
            }
            if flowLevel == 0 && column < minimumIndent { break }
        }
        if leadingBlanks { simpleKeyAllowed = true }
    }

    private mutating func scanBlockScalar() {
        advance()
        var increment = 0
        func digit(_ c: Unicode.Scalar?) -> Int? {
            guard let c, ("1"..."9").contains(c) else { return nil }
            return Int(c.value - ("0" as Unicode.Scalar).value)
        }
        if char(at: pos) == "+" || char(at: pos) == "-" {
            advance()
            if let d = digit(char(at: pos)) { increment = d; advance() }
        } else if let d = digit(char(at: pos)) {
            increment = d
            advance()
            if char(at: pos) == "+" || char(at: pos) == "-" { advance() }
        }
        while isBlank(at: pos) { advance() }
        if char(at: pos) == "#" {
            while pos < text.count && !isBreak(at: pos) { advance() }
        }
        // Anything else on the header line is an error in libyaml; scanning it as tokens counts more.
        guard isBreak(at: pos) else { return }
        skipLineBreak()
        var contentIndent = increment > 0 ? (indent >= 0 ? indent + increment : increment) : 0
        guard blockScalarBreaks(indent: &contentIndent) else { return }
        while column == contentIndent && pos < text.count {
            while pos < text.count && !isBreak(at: pos) { advance() }
            if isBreak(at: pos) { skipLineBreak() }
            guard blockScalarBreaks(indent: &contentIndent) else { return }
        }
    }

    /// Leading empty lines of a block scalar; settles its indentation when no indicator gave it.
    /// False where libyaml stops with an error (a tab in the indentation).
    private mutating func blockScalarBreaks(indent contentIndent: inout Int) -> Bool {
        var maxIndent = 0
        while true {
            while (contentIndent == 0 || column < contentIndent) && char(at: pos) == " " { advance() }
            maxIndent = max(maxIndent, column)
            if (contentIndent == 0 || column < contentIndent) && char(at: pos) == "\t" { return false }
            guard isBreak(at: pos) else { break }
            skipLineBreak()
        }
        if contentIndent == 0 {
            contentIndent = max(maxIndent, indent + 1, 1)
        }
        return true
    }
}
