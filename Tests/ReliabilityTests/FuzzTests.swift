import Testing

@testable import PolicyListFuzz

/// The CI-sized campaign of the mutation fuzzer (docs/reliability.md, "Hostile input"); `make fuzz` runs the
/// long one. Every case is reproducible: `policylist-fuzz --reproduce FORMAT:INDEX --seed 20200415`.
@Suite("Mutation fuzzer")
struct FuzzTests {
    static let corpus = Result { try FuzzCorpus(directory: Rel.root + "/fuzz/corpus") }

    @Test("20,300 seeded cases over 7 formats: no crash, no hang, every rejection has a message, round trips hold")
    func ciCampaign() async throws {
        // Debug builds on a shared, loaded CI machine: the slowest case takes 0.7 s alone and 3.2 s when the
        // crash tests and a release build run beside it; 10 s per case still catches anything super-linear.
        let campaign = FuzzCampaign(corpus: try Self.corpus.get(), seed: 20_200_415, timeLimit: .seconds(10))
        let report = try await Rel.offPool { campaign.run(casesPerFormat: 2_900) }
        print(report.summary)
        #expect(report.total >= 20_000)
        for failure in report.failures.prefix(10) { Issue.record("\(failure)") }
        #expect(report.failures.isEmpty)
        for format in FuzzFormat.allCases {
            // Not a degenerate campaign: each format reaches many different errors and still accepts some inputs.
            #expect((report.distinctErrors[format]?.count ?? 0) >= 10, "\(format.rawValue): few distinct errors")
            #expect(
                (report.cases[format] ?? 0) > (report.rejected[format] ?? 0), "\(format.rawValue): nothing accepted")
        }
    }

    @Test("cases are deterministic: the same seed and index give the same bytes")
    func deterministic() async throws {
        let corpus = try Self.corpus.get()
        let a = FuzzCampaign(corpus: corpus, seed: 7)
        let b = FuzzCampaign(corpus: corpus, seed: 7)
        let c = FuzzCampaign(corpus: corpus, seed: 8)
        for format in FuzzFormat.allCases {
            for index in [0, 1, 999] { #expect(a.input(format, index) == b.input(format, index)) }
            #expect((0..<20).contains { a.input(format, $0) != c.input(format, $0) })
        }
    }

    @Test("the targets report a violation for an empty rejection message")
    func violationsAreSeen() {
        #expect(FuzzTarget.rejection([], "x") != .rejected([]))
        #expect(FuzzTarget.rejection([" "], "x") == .violation("x: a rejection message is empty"))
        #expect(FuzzTarget.rejection(["bad"], "x") == .rejected(["bad"]))
    }
}
