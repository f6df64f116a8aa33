import Foundation
import PolicyListCore
import Testing

/// Differential test against the real postfix-mta-sts-resolver 1.5.1 (PyPI): its own `resolve()` decision
/// sequence (`parse_mta_sts_record`, `parse_mta_sts_policy`, …) run by `scripts/peers/mta_sts_resolver_verdicts.py`
/// on every txt/policy case of the reference corpus, compared with our lenient verdict on the same bytes.
///
/// Every disagreement must be listed, with its reason, in `Fixtures/resolver-disagreements.json` (and in
/// `docs/mta-sts-parsing.md`); an unlisted one fails the test, and so does a listed one that no longer
/// occurs. `POLICYLIST_RECORD_DISAGREEMENTS=1` rewrites the fixture (keeping known reasons, marking new
/// ones `UNEXPLAINED`) and still fails, so a new baseline is never accepted silently.
@Suite("postfix-mta-sts-resolver differential")
struct MTASTSResolverDiffTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let fixture = repo.appendingPathComponent("Tests/PeerTests/Fixtures/resolver-disagreements.json")

    /// One explained disagreement.
    struct Disagreement: Codable, Equatable {
        var id: String
        var ours: String
        var theirs: String
        var reason: String
    }

    /// One line of the peer script's output.
    struct PeerLine: Decodable {
        struct Input: Decodable {
            var rrset: [[String]]?
            var body: String?
            var status: Int?
            var contentType: String?
            var policyHost: String?
            var certDnsNames: [String]?
        }
        var id: String
        var kind: String
        var result: String
        var valid: Bool
        var txtId: String?
        var mode: String?
        var maxAge: Int?
        var mx: [String]?
        var input: Input
    }

    enum PeerError: Error, CustomStringConvertible {
        case missingVenv(String)
        case scriptFailed(Int32, String)
        case badOutput(String)

        var description: String {
            switch self {
            case .missingVenv(let python):
                "no Python venv with postfix-mta-sts-resolver: \(python) is missing. Run scripts/install-deps "
                    + "(or `python3 -m venv .venv && .venv/bin/pip install postfix-mta-sts-resolver==1.5.1`), "
                    + "or point POLICYLIST_VENV at a venv that has it"
            case .scriptFailed(let status, let stderr): "peer script exited \(status): \(stderr)"
            case .badOutput(let line): "peer script printed an unreadable line: \(line)"
            }
        }
    }

    /// Runs the peer script with the venv's python and decodes its lines.
    static func peerVerdicts() throws -> [PeerLine] {
        let environment = ProcessInfo.processInfo.environment
        let venv =
            environment["POLICYLIST_VENV"].map { URL(fileURLWithPath: $0) } ?? repo.appendingPathComponent(".venv")
        let python = venv.appendingPathComponent("bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else { throw PeerError.missingVenv(python) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [
            repo.appendingPathComponent("scripts/peers/mta_sts_resolver_verdicts.py").path,
            repo.appendingPathComponent("data/mta-sts-cases/cases.jsonl").path,
        ]
        let stdout = Pipe()
        let stderrURL = FileManager.default.temporaryDirectory.appendingPathComponent("peer-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: stderrURL) }
        process.standardOutput = stdout
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let stderr = (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
            throw PeerError.scriptFailed(process.terminationStatus, stderr)
        }
        let decoder = JSONDecoder()
        return try output.split(separator: UInt8(ascii: "\n")).map { line in
            do { return try decoder.decode(PeerLine.self, from: Data(line)) } catch {
                throw PeerError.badOutput(String(decoding: line, as: UTF8.self))
            }
        }
    }

    /// The comparable form of a verdict: `invalid`, `valid id=…` or `valid mode=… max_age=… mx=[…]`
    /// (mx lower-cased on both sides: DNS names compare case-insensitively).
    static func render(kind: String, valid: Bool, id: String?, mode: String?, maxAge: Int?, mx: [String]?) -> String {
        guard valid else { return "invalid" }
        if kind == "txt" { return "valid id=\(id ?? "")" }
        let patterns = (mx ?? []).map { $0.lowercased() }.joined(separator: ",")
        return "valid mode=\(mode ?? "") max_age=\(maxAge.map(String.init) ?? "") mx=[\(patterns)]"
    }

    /// Our verdict on exactly the bytes the resolver was given.
    static func ours(_ line: PeerLine, profile: MTASTS.Profile) -> String {
        if line.kind == "txt" {
            let rrset = (line.input.rrset ?? []).map { $0.map { Array(Data(base64Encoded: $0) ?? Data()) } }
            let verdict = MTASTS.evaluateTXT(rrset: rrset)[profile]
            return render(kind: "txt", valid: verdict.isValid, id: verdict.id, mode: nil, maxAge: nil, mx: nil)
        }
        let body = Array(Data(base64Encoded: line.input.body ?? "") ?? Data())
        let http = MTASTS.HTTPFacts(status: line.input.status ?? 200, contentType: line.input.contentType)
        let certificate = line.input.policyHost.map {
            MTASTS.CertificateFacts(policyHost: $0, dnsNames: line.input.certDnsNames ?? [])
        }
        let verdict = MTASTS.evaluatePolicy(body: body, http: http, certificate: certificate)[profile]
        return render(
            kind: "policy", valid: verdict.isValid, id: nil, mode: verdict.parsed?.mode.rawValue,
            maxAge: verdict.parsed?.maxAge, mx: verdict.parsed?.mx)
    }

    @Test("every disagreement with postfix-mta-sts-resolver is listed and explained")
    func disagreementsAreExplained() throws {
        let lines = try Self.peerVerdicts()
        #expect(lines.count == 110, "35 txt + 75 policy cases")

        var found: [Disagreement] = []
        var strictDisagreements = 0
        for line in lines {
            let theirs = Self.render(
                kind: line.kind, valid: line.valid, id: line.txtId, mode: line.mode, maxAge: line.maxAge, mx: line.mx)
            let ours = Self.ours(line, profile: .lenient)
            if ours != theirs { found.append(Disagreement(id: line.id, ours: ours, theirs: theirs, reason: "")) }
            if Self.ours(line, profile: .strict) != theirs { strictDisagreements += 1 }
        }

        let listed = try JSONDecoder().decode([Disagreement].self, from: Data(contentsOf: Self.fixture))
        let listedByID = Dictionary(listed.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let foundIDs = Set(found.map(\.id))
        let unexplained = found.filter { d in
            guard let entry = listedByID[d.id] else { return true }
            return entry.ours != d.ours || entry.theirs != d.theirs || entry.reason.isEmpty
                || entry.reason == "UNEXPLAINED"
        }
        let stale = listed.filter { !foundIDs.contains($0.id) }

        if ProcessInfo.processInfo.environment["POLICYLIST_RECORD_DISAGREEMENTS"] == "1" {
            let recorded = found.map { d in
                var entry = d
                entry.reason = listedByID[d.id]?.reason ?? "UNEXPLAINED"
                return entry
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try (encoder.encode(recorded) + Data("\n".utf8)).write(to: Self.fixture)
            Issue.record("re-recorded \(recorded.count) disagreements into \(Self.fixture.path); review and re-run")
        }

        #expect(
            unexplained.isEmpty,
            """
            \(unexplained.count) disagreement(s) with postfix-mta-sts-resolver not listed in \
            resolver-disagreements.json (or listed with other verdicts / no reason):
            \(unexplained.map { "\($0.id): ours \($0.ours) | theirs \($0.theirs)" }.joined(separator: "\n"))
            """)
        #expect(
            stale.isEmpty,
            "listed disagreements that no longer occur (stale): \(stale.map(\.id).joined(separator: ", "))")
        // Informational: the strict profile disagrees more often (it is stricter than every deployed parser).
        #expect(strictDisagreements >= found.count)
    }
}
