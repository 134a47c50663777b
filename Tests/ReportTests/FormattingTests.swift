// SPDX-License-Identifier: GPL-3.0-or-later
import Testing
@testable import Report

@Suite struct FormattingTests {
    @Test(arguments: [
        (1.0, "1.000"), (1.05, "1.050"), (12.345678, "12.35"), (999.96, "1000"), (1234.5, "1234"),
        (0.012345, "0.01235"), (9.99996, "10.00"), (1.5e9, "1.500e9"), (2.1e-6, "2.100e-6"), (-3.25, "-3.250"),
        (0, "0"), (.nan, "nan"), (.infinity, "inf"),
    ])
    func significant(value: Double, expected: String) {
        #expect(Num.sig(value) == expected)
    }

    @Test func ratiosAndPValues() {
        #expect(Num.ratio(1.0504) == "1.050")
        #expect(Num.ratio(426.7) == "426.700")
        #expect(Num.ratio(4267.1) == "4267")
        #expect(Num.ratio(0.00123) == "0.00123")
        #expect(Num.ratio(0.000123) == "1.23e-4")
        #expect(Num.change(1.05) == "+5.0%")
        #expect(Num.change(0.9999) == "+0.0%")
        #expect(Num.change(0.95) == "-5.0%")
        #expect(Num.p(0.0123) == "0.012")
        #expect(Num.p(0.0004) == "4.0e-4")
        #expect(Num.percent(0.0667) == "6.7%")
        #expect(Num.exact(1.5e9) == "1500000000")
        #expect(Num.exact(0.1) == "0.1")
        #expect(Num.exact(-43.9) == "-43.9")
    }

    @Test func displayUnits() {
        #expect(DisplayUnit.choose(unit: "ns", typical: 1.2e9) == DisplayUnit(label: "s", divisor: 1e9))
        #expect(DisplayUnit.choose(unit: "ns", typical: 2.4e6) == DisplayUnit(label: "ms", divisor: 1e6))
        #expect(DisplayUnit.choose(unit: "ns", typical: 350) == DisplayUnit(label: "ns", divisor: 1))
        #expect(DisplayUnit.choose(unit: "s", typical: 0.004) == DisplayUnit(label: "ms", divisor: 1e-3))
        #expect(DisplayUnit.choose(unit: "frames/s", typical: 41) == DisplayUnit(label: "frames/s", divisor: 1))
        #expect(DisplayUnit.choose(unit: "ns", typical: 1.2e9).format(1.2346e9) == "1.235")
    }

    @Test func escaping() {
        #expect(Escape.markup("<a href=\"x\">'&'</a>") == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;")
        #expect(Escape.markup("nul\u{0}bel\u{7}") == "nul\u{fffd}bel\u{fffd}")
        #expect(Escape.markdown("a|b *c* wall_ns _x_ [l](u) `t`") == "a\\|b \\*c\\* wall_ns \\_x\\_ \\[l\\](u) \\`t\\`")
        #expect(Escape.markdown("line\nbreak <b>") == "line break &lt;b&gt;")
        #expect(CSVReport.defused("=1+1") == "'=1+1")
        #expect(CSVReport.defused("@SUM(A1)") == "'@SUM(A1)")
        #expect(CSVReport.defused("-cmd") == "'-cmd")
        #expect(CSVReport.defused("native") == "native")
        #expect(CSVReport.quoted("a,b") == "\"a,b\"")
        #expect(CSVReport.quoted("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVReport.quoted("plain") == "plain")
    }

    @Test func niceTicks() {
        let scale = SVGPlots.Scale(low: 1.0, high: 1.1, left: 0, right: 100, includeZero: false)
        #expect(scale.ticks.count >= 3 && scale.ticks.count <= 12)
        #expect(scale.ticks.allSatisfy { $0 >= scale.low && $0 <= scale.high })
        #expect(scale.x(scale.low) == 0 && scale.x(scale.high) == 100)
        let flat = SVGPlots.Scale(low: 5, high: 5, left: 0, right: 100, includeZero: false)
        #expect(flat.low < 5 && flat.high > 5)
    }
}
