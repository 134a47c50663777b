// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
import Foundation
import RVBenchCore
import Stats

/// `rvbench bench stats`: rvbench's two-sample comparison against SciPy on the same data.
public struct BenchStats: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Time rvbench's two-sample comparison against SciPy on the same data.",
        discussion: """
        Generates two seeded lognormal samples (GSL taus2; baseline exp(N(0, 0.25²)), candidate \
        exp(N(log 1.02, 0.25²))), writes them to a temporary directory, then times:

          rvbench  Statistics.compare: ratio of means and ratio of medians, each with a percentile \
        and a BCa bootstrap CI (one set of resamples serves both statistics), Welch's t, \
        Mann-Whitney U, Hodges-Lehmann and Cliff's delta.
          scipy    Benchmarks/stats/scipy_peer.py: scipy.stats.bootstrap of the ratio of means only \
        (method as given, percentile by default), ttest_ind(equal_var=False) and \
        mannwhitneyu(method='asymptotic').

        Neither time includes process start-up, imports or reading the files. rvbench's bootstrap \
        runs on --threads workers (all active cores by default; results are identical for any \
        count); SciPy's bootstrap runs in one thread. Both wall time and CPU time (all threads of \
        the process) are printed, with the load average before and after: on a shared machine \
        the CPU-time ratio is the steadier figure. SciPy's BCa builds its jackknife from n \
        leave-one-out copies of each sample, O(n²) work, so at n = 100,000 the default peer \
        method is percentile.

        \(ExitStatus.helpText)
        """
    )

    @Option(help: "Samples per side.")
    public var n: Int = 100_000

    @Option(help: "Bootstrap resamples on both sides.")
    public var resamples: Int = 10_000

    @Option(help: "Seed for the data and both bootstraps.")
    public var seed: UInt64 = 1

    @Option(help: "Worker threads for rvbench's bootstrap (default: all active cores).")
    public var threads: Int?

    @Option(help: "SciPy bootstrap method: percentile, BCa or basic.")
    public var scipyMethod: String = "percentile"

    @Option(help: "Resamples per vectorised SciPy batch; 5 was SciPy's fastest of 1 to 1000 on the 2-core benchmark VM (all at once would need n × resamples indices in memory).")
    public var scipyBatch: Int = 5

    @Option(help: "Python interpreter that has scipy and numpy.")
    public var python: String = "python3"

    @Option(help: "Path of the SciPy peer script (default: Benchmarks/stats/scipy_peer.py of this checkout).")
    public var peer: String?

    @Flag(help: "Keep the generated data directory.")
    public var keepData = false

    public init() {}

    public func validate() throws {
        guard n >= 2 else { throw ValidationError("--n must be at least 2") }
        guard resamples >= 100 else { throw ValidationError("--resamples must be at least 100") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        guard ["percentile", "BCa", "basic"].contains(scipyMethod) else {
            throw ValidationError("--scipy-method must be percentile, BCa or basic")
        }
    }

    public func run() throws {
        let baseline = try SyntheticData.lognormal(count: n, mu: 0, sigma: 0.25, seed: seed)
        let candidate = try SyntheticData.lognormal(count: n, mu: log(1.02), sigma: 0.25, seed: seed &+ 1)
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("rvbench-bench-stats-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { if !keepData { try? FileManager.default.removeItem(at: dir) } }
        let baselineFile = dir.appendingPathComponent("baseline.txt")
        let candidateFile = dir.appendingPathComponent("candidate.txt")
        try write(baseline, to: baselineFile)
        try write(candidate, to: candidateFile)
        // Both sides compute on what the files hold.
        let b = try NumberList.read(path: baselineFile.path)
        let c = try NumberList.read(path: candidateFile.path)

        let usedThreads = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let loadBefore = loadAverage()
        print("data: 2 × \(n) lognormal samples, seed \(seed), in \(dir.path)\(keepData ? "" : " (removed afterwards)")")
        print("resamples: \(resamples)")

        let options = CompareOptions(resamples: resamples, seed: seed, threads: usedThreads)
        let clock = ContinuousClock()
        var engineCI: Interval?
        let cpuBefore = processCPUSeconds()
        let engineElapsed = try clock.measure {
            engineCI = try Statistics.bootstrapRatioOfMeans(baseline: b, candidate: c, resamples: resamples, seed: seed,
                                                            threads: usedThreads)
        }
        let engineCPU = processCPUSeconds() - cpuBefore
        let engine = seconds(engineElapsed)
        var comparison: Comparison?
        let elapsed = try clock.measure {
            comparison = try Statistics.compare(baseline: b, candidate: c, options: options)
        }
        let ours = seconds(elapsed)
        let result = comparison!
        print("")
        print("rvbench bootstrap (ratio of means, percentile, \(usedThreads) thread\(usedThreads == 1 ? "" : "s")): \(fmt(engine)) s wall, "
            + "\(fmt(engineCPU)) s CPU, CI [\(fmt(engineCI!.low)), \(fmt(engineCI!.high))]")
        print("rvbench compare (everything below, \(usedThreads) thread\(usedThreads == 1 ? "" : "s")): \(fmt(ours)) s wall")
        print("  ratio of means \(fmt(result.ratioOfMeans)) percentile CI [\(fmt(result.ratioOfMeansCI.low)), \(fmt(result.ratioOfMeansCI.high))] BCa [\(fmt(result.ratioOfMeansBCa.low)), \(fmt(result.ratioOfMeansBCa.high))]")
        print("  ratio of medians \(fmt(result.ratioOfMedians)) percentile CI [\(fmt(result.ratioOfMediansCI.low)), \(fmt(result.ratioOfMediansCI.high))] BCa [\(fmt(result.ratioOfMediansBCa.low)), \(fmt(result.ratioOfMediansBCa.high))]")
        print("  welch t \(fmt(result.welchT)) p \(fmt(result.welchP)); mann-whitney U \(fmt(result.mannWhitneyU)) p \(fmt(result.mannWhitneyP)); hodges-lehmann \(fmt(result.hodgesLehmann)); cliff's delta \(fmt(result.cliffsDelta))")

        let script = peer ?? defaultPeerPath()
        guard FileManager.default.fileExists(atPath: script) else {
            print("")
            print("scipy: not run: peer script \(script) not found; pass --peer PATH")
            throw ExitCode(ExitStatus.runFailed.rawValue)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script, baselineFile.path, candidateFile.path,
                             "--resamples", String(resamples), "--seed", String(seed),
                             "--method", scipyMethod, "--batch", String(scipyBatch)]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let wallStart = clock.now
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let wall = seconds(clock.now - wallStart)
        guard process.terminationStatus == 0,
              let object = try? JSONSerialization.jsonObject(with: outData) as? [String: Any],
              let theirs = object["seconds"] as? Double else {
            let message = String(decoding: errData, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? "no output"
            print("")
            print("scipy: not run: \(python) \(script) exited with \(process.terminationStatus): \(message)")
            throw ExitCode(ExitStatus.runFailed.rawValue)
        }
        func num(_ key: String) -> String { (object[key] as? Double).map(fmt) ?? "?" }
        print("")
        print("scipy \(object["scipy"] as? String ?? "?") / numpy \(object["numpy"] as? String ?? "?") (method \(scipyMethod), batch \(scipyBatch)): \(fmt(theirs)) s wall (bootstrap \(num("bootstrap_seconds")) s, tests \(num("tests_seconds")) s; process wall time with start-up and file reading \(fmt(wall)) s)")
        print("  ratio of means \(num("ratio_of_means")) \(scipyMethod) CI [\(num("ratio_ci_low")), \(num("ratio_ci_high"))]")
        print("  welch t \(num("welch_t")) p \(num("welch_p")); mann-whitney U \(num("mann_whitney_u")) p \(num("mann_whitney_p"))")
        print("")
        if scipyMethod == "percentile", let bootstrapSeconds = object["bootstrap_seconds"] as? Double {
            print("like with like (ratio of means, percentile, \(resamples) resamples, same data):")
            print("  wall time: scipy bootstrap \(fmt(bootstrapSeconds)) s (1 thread), rvbench bootstrap \(fmt(engine)) s "
                + "(\(usedThreads) thread\(usedThreads == 1 ? "" : "s")): scipy / rvbench = \(fmt(bootstrapSeconds / engine))×")
            if let scipyCPU = object["bootstrap_cpu_seconds"] as? Double {
                print("  CPU time (all threads): scipy \(fmt(scipyCPU)) s, rvbench \(fmt(engineCPU)) s: "
                    + "scipy / rvbench = \(fmt(scipyCPU / engineCPU))×")
            }
        }
        print("whole comparison: scipy / rvbench compare = \(fmt(theirs / ours))× wall time (rvbench computes more: both ratios, percentile and BCa, plus Hodges-Lehmann and Cliff's delta)")
        print("load average (1, 5, 15 min) before: \(loadBefore), after: \(loadAverage())")
    }

    private func write(_ values: [Double], to url: URL) throws {
        var text = ""
        text.reserveCapacity(values.count * 20)
        for v in values { text += "\(v)\n" }
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    private func defaultPeerPath() -> String {
        let relative = "Benchmarks/stats/scipy_peer.py"
        if FileManager.default.fileExists(atPath: relative) { return relative }
        // Sources/CLI/BenchStats.swift → package root.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(relative).path
    }

    private func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    private func fmt(_ x: Double) -> String { String(format: "%.4g", x) }
}

/// The 1, 5 and 15 minute load averages, as "1.00 0.50 0.25". Wraps `getloadavg`.
func loadAverage() -> String {
    var loads = [Double](repeating: 0, count: 3)
    guard getloadavg(&loads, 3) == 3 else { return "unknown" }
    return loads.map { String(format: "%.2f", $0) }.joined(separator: " ")
}

/// CPU time of this process (all threads) so far, in seconds. Wraps `clock_gettime(CLOCK_PROCESS_CPUTIME_ID)`.
func processCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
