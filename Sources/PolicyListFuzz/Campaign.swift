import Foundation
import PolicyListIO

/// The seeds of every format, read from a corpus directory (`fuzz/corpus/<format>/*`).
public struct FuzzCorpus: Sendable {
    /// Seeds per format, in file-name order.
    public let seeds: [FuzzFormat: [[UInt8]]]

    /// Reads `directory/<format>/*`; the gzip format uses every other seed, gzipped.
    public init(directory: String) throws {
        var seeds: [FuzzFormat: [[UInt8]]] = [:]
        var all: [[UInt8]] = []
        for format in FuzzFormat.allCases where format != .gzip {
            let dir = directory + "/" + format.rawValue
            let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
            seeds[format] = try names.map { try readFile(dir + "/" + $0) }
            all += seeds[format] ?? []
        }
        seeds[.gzip] = all.map { PolicyListIO.gzip($0) }
        self.seeds = seeds
    }
}

/// One case that broke a rule: enough to reproduce it (`policylist-fuzz --reproduce FORMAT:INDEX --seed S`).
public struct FuzzFailure: Sendable, CustomStringConvertible {
    /// The format.
    public let format: FuzzFormat
    /// The case index within the format.
    public let index: Int
    /// What went wrong (a violation, or a case over the time limit).
    public let problem: String
    /// The input.
    public let input: [UInt8]

    /// `snapshot #123: problem`.
    public var description: String { "\(format.rawValue) #\(index): \(problem) (\(input.count) bytes)" }
}

/// Counts and findings of a campaign.
public struct FuzzReport: Sendable {
    /// Cases run per format.
    public var cases: [FuzzFormat: Int] = [:]
    /// Cases rejected per format (the rest were accepted).
    public var rejected: [FuzzFormat: Int] = [:]
    /// Distinct rejection messages' first words per format (how many different errors were reached).
    public var distinctErrors: [FuzzFormat: Set<String>] = [:]
    /// Failures: violations and slow cases.
    public var failures: [FuzzFailure] = []
    /// The slowest case.
    public var slowest: (format: FuzzFormat, index: Int, duration: Duration)?
    /// Wall time.
    public var elapsed: Duration = .zero

    /// Total cases.
    public var total: Int { cases.values.reduce(0, +) }
    /// Cases per second.
    public var casesPerSecond: Double {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return seconds > 0 ? Double(total) / seconds : 0
    }

    /// A few lines for people.
    public var summary: String {
        var lines: [String] = []
        for format in FuzzFormat.allCases where cases[format] != nil {
            lines.append(
                "\(format.rawValue): \(cases[format] ?? 0) cases, \(rejected[format] ?? 0) rejected, "
                    + "\(distinctErrors[format]?.count ?? 0) distinct errors")
        }
        lines.append(
            "total \(total) cases in \(elapsed), "
                + "\(Int(casesPerSecond)) cases/s, \(failures.count) failures"
                + (slowest.map { ", slowest \($0.format.rawValue) #\($0.index) \($0.duration)" } ?? ""))
        return lines.joined(separator: "\n")
    }
}

/// A seeded campaign: case `i` of format `f` is the same bytes on every machine, so a failure is reproducible.
public struct FuzzCampaign: Sendable {
    /// The corpus.
    public let corpus: FuzzCorpus
    /// The master seed.
    public let seed: UInt64
    /// The per-case time limit; a slower case is a failure, and a case that takes 20 times as long is a hang
    /// (the watchdog ends the process, printing the case).
    public let timeLimit: Duration

    /// Creates a campaign.
    public init(corpus: FuzzCorpus, seed: UInt64, timeLimit: Duration = .seconds(2)) {
        self.corpus = corpus
        self.seed = seed
        self.timeLimit = timeLimit
    }

    /// The input of case `index` of `format`.
    public func input(_ format: FuzzFormat, _ index: Int) -> [UInt8] {
        let seeds = corpus.seeds[format] ?? []
        guard !seeds.isEmpty else { return [] }
        var rng = SplitMix64.forCase(seed: seed, format: format, index: index)
        let base = seeds[Int(rng.next() % UInt64(seeds.count))]
        // One case in 16 is the unmutated seed spliced with another; the rest are mutations.
        return Mutator.mutate(base, others: seeds, rng: &rng)
    }

    /// Runs `casesPerFormat` cases of every format in `formats`, round robin; `progress` is called every
    /// `progressEvery` cases.
    public func run(
        casesPerFormat: Int, formats: [FuzzFormat] = FuzzFormat.allCases, progressEvery: Int = 0,
        progress: (FuzzReport) -> Void = { _ in }
    ) -> FuzzReport {
        var report = FuzzReport()
        let watchdog = Watchdog(hangAfter: timeLimit * 20)
        let clock = ContinuousClock()
        let start = clock.now
        for index in 0..<casesPerFormat {
            for format in formats {
                let bytes = input(format, index)
                watchdog.begin("\(format.rawValue) #\(index) (seed \(seed), \(bytes.count) bytes)")
                let caseStart = clock.now
                let outcome = FuzzTarget.run(format, bytes)
                let duration = clock.now - caseStart
                watchdog.end()
                report.cases[format, default: 0] += 1
                switch outcome {
                case .accepted: break
                case .rejected(let messages):
                    report.rejected[format, default: 0] += 1
                    if let first = messages.first {
                        report.distinctErrors[format, default: []].insert(Self.errorClass(first))
                    }
                case .violation(let problem):
                    report.failures.append(FuzzFailure(format: format, index: index, problem: problem, input: bytes))
                }
                if duration > timeLimit {
                    report.failures.append(
                        FuzzFailure(
                            format: format, index: index, problem: "took \(duration), over the \(timeLimit) limit",
                            input: bytes))
                }
                if report.slowest.map({ duration > $0.duration }) ?? true {
                    report.slowest = (format, index, duration)
                }
            }
            if progressEvery > 0 && (index + 1) % progressEvery == 0 {
                report.elapsed = clock.now - start
                progress(report)
            }
        }
        watchdog.stop()
        report.elapsed = clock.now - start
        return report
    }

    /// A message with its numbers and quoted parts removed, so errors of one kind count once.
    static func errorClass(_ message: String) -> String {
        var out = ""
        var quoted = false
        for character in message.prefix(80) {
            if character == "\"" || character == "'" {
                quoted.toggle()
                continue
            }
            if quoted || character.isNumber { continue }
            out.append(character)
        }
        return out
    }
}

/// Ends the process when one case runs far past the time limit: an in-process parser cannot be interrupted,
/// so a hang is reported (with the case, for reproduction) and turned into a failing exit.
final class Watchdog: @unchecked Sendable {
    private let lock = NSLock()
    private var current: (label: String, since: ContinuousClock.Instant)?
    private var stopped = false
    private let hangAfter: Duration

    init(hangAfter: Duration) {
        self.hangAfter = hangAfter
        let thread = Thread { [weak self] in
            while let self, self.check() { Thread.sleep(forTimeInterval: 0.5) }
        }
        thread.start()
    }

    func begin(_ label: String) {
        lock.withLock { current = (label, ContinuousClock.now) }
    }

    func end() {
        lock.withLock { current = nil }
    }

    func stop() {
        lock.withLock { stopped = true }
    }

    /// False once stopped; ends the process if the current case is hung.
    private func check() -> Bool {
        let (running, hung): (Bool, String?) = lock.withLock {
            guard !stopped else { return (false, nil) }
            guard let current, ContinuousClock.now - current.since > hangAfter else { return (true, nil) }
            return (true, current.label)
        }
        if let hung {
            // The one place the fuzzer ends its own process: a parser stuck in a loop cannot be unwound.
            FileHandle.standardError.write(Data("policylist-fuzz: HANG: \(hung) ran over \(hangAfter)\n".utf8))
            exit(70)
        }
        return running
    }
}
