// SPDX-License-Identifier: GPL-3.0-or-later
import Testing
@testable import Experiment
import GuestWire
import Host
import Remote

@Suite struct ScheduleTests {
    static let three = Fixtures.spec(variants: [
        VariantSpec(name: "native", kind: .native, baseline: true),
        VariantSpec(name: "virtio", kind: .virtio),
        VariantSpec(name: "vdpa", kind: .vdpa),
    ], workloads: 2, boots: 8, iterations: 3, warmup: 2)

    @Test func matrixIsVariantsTimesWorkloads() {
        let cells = Matrix.expand(Self.three)
        #expect(cells.map { "\($0.variant.name)/\($0.label)" } == [
            "native/onnx-mobilenet", "native/x264-320", "virtio/onnx-mobilenet", "virtio/x264-320",
            "vdpa/onnx-mobilenet", "vdpa/x264-320",
        ])
        let counted = Fixtures.spec(workloads: 1, counters: ["perf::CYCLES"], overhead: true)
        let twins = Matrix.expand(counted)
        #expect(twins.map { "\($0.variant.name)/\($0.label)" } == [
            "native/onnx-mobilenet", "virtio/onnx-mobilenet",
            "native@no-counters/onnx-mobilenet", "virtio@no-counters/onnx-mobilenet",
        ])
        #expect(twins.map(\.counters) == [["perf::CYCLES"], ["perf::CYCLES"], [], []])
        #expect(counted.variants.filter(\.baseline).map(\.name) == ["native"])
        #expect(counted.variants.map(\.countedName) == [nil, nil, "native", "virtio"])
        // The twins are interleaved with the counted boots, not run in a block.
        let round = Schedule(spec: counted).round(0).map(\.variant.name)
        #expect(Set(round) == ["native", "virtio", "native@no-counters", "virtio@no-counters"])
    }

    @Test func everyRoundBootsEveryVariantOnceAndPairsAreMirrored() {
        let schedule = Schedule(spec: Self.three)
        let boots = schedule.planned
        #expect(boots.count == 24)
        #expect(boots.map(\.sequence) == Array(0 ..< 24))
        for round in 0 ..< 8 {
            let names = boots.filter { $0.round == round }.map(\.variant.name)
            #expect(Set(names) == ["native", "virtio", "vdpa"] && names.count == 3)
            #expect(boots.filter { $0.round == round }.allSatisfy { $0.boot == round })
            if round % 2 == 1 {
                let previous = boots.filter { $0.round == round - 1 }.map(\.variant.name)
                #expect(names == previous.reversed())
            }
        }
        // Over a pair of rounds every variant holds the first and the last position equally often:
        // each variant's mean position is the middle one.
        for name in ["native", "virtio", "vdpa"] {
            let positions = boots.filter { $0.variant.name == name }.map { $0.sequence % 3 }
            #expect(positions.reduce(0, +) == 8)
        }
    }

    @Test func theSameSeedGivesTheSameScheduleAndSeedsDiffer() {
        let a = Schedule.interleaved(Self.three, seed: 99)
        let b = Schedule.interleaved(Self.three, seed: 99)
        #expect(a == b)
        let orders = Set((1 ... 6).map { seed in
            Schedule.interleaved(Self.three, seed: UInt64(seed)).map(\.variant.name).joined(separator: ",")
        })
        #expect(orders.count > 1)
        // The spec's own seed is the default.
        #expect(Schedule(spec: Self.three).planned == Schedule.interleaved(Self.three, seed: 42))
    }

    @Test func variantsAreInterleavedNotBlocked() {
        let two = Fixtures.spec(boots: 10)
        let names = Schedule(spec: two).planned.map(\.variant.name)
        #expect(names.count == 20)
        // No variant ever boots three times in a row, so neither runs as a block.
        for i in 2 ..< names.count {
            #expect(!(names[i] == names[i - 1] && names[i] == names[i - 2]))
        }
    }

    @Test func extraRoundsDoNotChangeEarlierOnes() {
        let adaptive = Fixtures.spec(boots: 2, maxBoots: 6)
        let schedule = Schedule(spec: adaptive)
        #expect(schedule.planned.count == 4)
        #expect(schedule.maximal.count == 12)
        #expect(Array(schedule.maximal.prefix(4)) == schedule.planned)
        #expect(schedule.round(5) == Array(schedule.maximal.suffix(2)))
    }

    @Test func bootsCarryTheirWorkloadsWithWarmupAndIterations() {
        let boots = Schedule(spec: Self.three).planned
        for boot in boots {
            #expect(Set(boot.workloads.map(\.label)) == ["onnx-mobilenet", "x264-320"])
            #expect(boot.workloads.allSatisfy { $0.warmup == 2 && $0.iterations == 3 })
        }
        // The workload order is shuffled per boot, so both orders occur.
        #expect(Set(boots.map { $0.workloads.map(\.label) }).count == 2)
    }
}
