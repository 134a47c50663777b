// SPDX-License-Identifier: GPL-3.0-or-later

/// Whether smaller or larger values of a metric are better.
public enum Direction: String, Codable, Sendable, CaseIterable {
    case lowerIsBetter = "lower-is-better"
    case higherIsBetter = "higher-is-better"
}

/// One measured value: a line of `samples.jsonl`.
public struct Sample: Codable, Sendable, Equatable {
    public var experiment: String
    public var variant: String
    public var workload: String
    /// Boot index within the variant (0-based); the outer level of the nested design.
    public var boot: Int
    /// Iteration index within the boot (0-based); the inner level.
    public var iteration: Int
    public var metric: String
    public var value: Double
    public var unit: String
    /// Seconds since the Unix epoch when the value was taken.
    public var timestamp: Double
    /// What the metric is when the producer knows it (counters are marked so where they are read);
    /// nil: the workload manifest says. Omitted from `samples.jsonl` when nil.
    public var kind: MetricKind?

    public init(experiment: String, variant: String, workload: String, boot: Int, iteration: Int,
                metric: String, value: Double, unit: String, timestamp: Double, kind: MetricKind? = nil) {
        self.kind = kind
        self.experiment = experiment
        self.variant = variant
        self.workload = workload
        self.boot = boot
        self.iteration = iteration
        self.metric = metric
        self.value = value
        self.unit = unit
        self.timestamp = timestamp
    }
}
