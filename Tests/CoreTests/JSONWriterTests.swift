// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore
import Testing

/// workloads/common/json.c, the JSON writer of rvbench-runner and rvbench-probe, compiled for this
/// machine with a small driver: what it writes must be JSON that says what the input said.
@Suite(.enabled(if: Subprocess.which("cc") != nil, "needs a C compiler"))
struct JSONWriterTests {
    static let common = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("workloads/common")

    static let driver = #"""
        #include "json.h"
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>

        static void oom(void) { exit(3); }

        /* One line per case: the growing writer's text for s[0, n) cut at `limit`. */
        static void line(const char *s, size_t n, size_t limit) {
            rvb_json j;
            rvb_json_init_growing(&j, oom);
            rvb_json_string(&j, s, n, limit);
            printf("%s\n", j.p);
            free(j.p);
        }

        int main(void) {
            line("plain", 5, (size_t)-1);
            line("q\"b\\n\nt\tr\rc\x01" "d\x7f", 14, (size_t)-1);
            line("snow\xe2\x98\x83", 7, (size_t)-1);
            line("\xff|\xc0\xaf|\xe0\x80\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\xe2\x98", 20, (size_t)-1);
            line("abcdef", 6, 3);
            line("a\"bc", 4, 2);
            /* A bounded writer drops what does not fit, and everything after it. */
            char storage[9];
            rvb_json b;
            rvb_json_init_bounded(&b, storage, 8);
            rvb_json_lit(&b, "[1,");
            rvb_json_string(&b, "long string", 11, (size_t)-1);
            rvb_json_lit(&b, "2]");
            printf("%s %d\n", b.p, b.overflow);
            /* A growing writer has no bound. */
            rvb_json g;
            rvb_json_init_growing(&g, oom);
            for (int i = 0; i < 100000; i++) rvb_json_fmt(&g, "%d,", i % 10);
            printf("%zu %d\n", g.n, g.overflow);
            /* Structure: commas follow the nesting, none after a key or an opening bracket. */
            rvb_json_reset(&g);
            rvb_json_begin(&g, '{');
            rvb_json_key(&g, "a", (size_t)-1);
            rvb_json_begin(&g, '[');
            rvb_json_value(&g, "1");
            rvb_json_value_fmt(&g, "%d", 2);
            rvb_json_begin(&g, '{');
            rvb_json_end(&g, '}');
            rvb_json_end(&g, ']');
            rvb_json_key(&g, "b", (size_t)-1);
            rvb_json_value_string(&g, "x", 1, (size_t)-1);
            rvb_json_key(&g, "c", (size_t)-1);
            rvb_json_value(&g, "null");
            rvb_json_end(&g, '}');
            printf("%s\n", g.p);
            return 0;
        }
        """#

    @Test func writesJSONThatSaysWhatTheInputSaid() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rvbench-json-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = dir.appendingPathComponent("driver.c"), binary = dir.appendingPathComponent("driver")
        try Data(Self.driver.utf8).write(to: source)
        let build = try await Subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-I", Self.common.path, "-o", binary.path,
                                              source.path, Self.common.appendingPathComponent("json.c").path], timeout: 120)
        try #require(build.status == 0, "\(build.stderrString)")
        let run = try await Subprocess.run([binary.path], timeout: 60)
        #expect(run.status == 0)
        let lines = run.stdoutString.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        try #require(lines.count >= 9, "\(lines)")
        func decoded(_ line: String) throws -> String {
            try JSONDecoder().decode(String.self, from: Data(line.utf8))
        }
        #expect(try decoded(lines[0]) == "plain")
        #expect(lines[1] == #""q\"b\\n\nt\tr\rc\u0001d\u007f""#)
        #expect(try decoded(lines[1]) == "q\"b\\n\nt\tr\rc\u{01}d\u{7f}")
        #expect(try decoded(lines[2]) == "snow☃")
        // A bad lead byte, an overlong form, a surrogate, a code point above U+10FFFF and a cut sequence:
        // each byte that starts no valid sequence becomes one U+FFFD.
        let r = "\u{FFFD}"
        #expect(try decoded(lines[3]) == [r, r + r, r + r + r, r + r + r, r + r + r + r, r + r].joined(separator: "|"))
        #expect(lines[4] == #""abc...""#)
        // An escape is never split: \" would pass the limit, so the text is cut before it.
        #expect(lines[5] == #""a...""#)
        #expect(lines[6] == #"[1,"long 1"#)
        #expect(lines[7] == "200000 0")
        #expect(lines[8] == #"{"a":[1,2,{}],"b":"x","c":null}"#)
    }
}
