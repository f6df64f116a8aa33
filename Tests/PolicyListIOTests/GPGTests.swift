import Foundation
import Glibc
import PolicyListCore
import Testing

@testable import PolicyListIO

@Suite("GPG")
struct GPGTests {
    static let keyring =
        repositoryRoot + "/data/keys/starttls-policy-authority-B693F33372E965D76D55368616EEA65D03326C9D.gpg"
    static let manifest = repositoryRoot + "/data/policy-history/MANIFEST.tsv"

    /// A throw-away GNUPGHOME with a passphrase-less signing key; returns (home, fingerprint).
    static func makeKey(_ uid: String) throws -> (home: String, fingerprint: String) {
        let home = try temporaryDirectory("plgpg")
        try mustRun(
            "gpg",
            [
                "--homedir", home, "--batch", "--passphrase", "", "--pinentry-mode", "loopback", "--quick-gen-key", uid,
                "ed25519", "sign", "never",
            ])
        let listing = String(
            decoding: try mustRun("gpg", ["--homedir", home, "--with-colons", "--list-keys"]), as: UTF8.self)
        let fingerprint = listing.split(separator: "\n").first { $0.hasPrefix("fpr:") }
            .map { String($0.split(separator: ":", omittingEmptySubsequences: false)[9]) }
        return (home, fingerprint ?? "")
    }

    static func dropKey(_ home: String) {
        _ = try? runProcess("gpgconf", arguments: ["--homedir", home, "--kill", "all"])
        removeTree(home)
    }

    @Test("sign with a test key, verify: good with creation time; tampered: bad; other key: unknown")
    func roundTrip() throws {
        let (home, fingerprint) = try Self.makeKey("Policy Test <policy-test@example.org>")
        defer { Self.dropKey(home) }
        let (otherHome, otherFingerprint) = try Self.makeKey("Other Test <other@example.org>")
        defer { Self.dropKey(otherHome) }
        #expect(fingerprint.count == 40)

        let keyring = home + "/exported.gpg"
        try put(mustRun("gpg", ["--homedir", home, "--export", fingerprint]), keyring)
        let data = Array("{\n  \"timestamp\": \"2020-05-01T00:00:00+00:00\"\n}".utf8)
        let before = Int64(time(nil))
        let signature = try signDetached(data: data, keyID: fingerprint, gnupgHome: home)
        #expect(signature.starts(with: Array("-----BEGIN PGP SIGNATURE-----".utf8)))

        let check = try verifyDetached(data: data, signature: signature, keyring: keyring)
        guard case .good(let signer, let primary, let created) = check else {
            Issue.record("expected a good signature, got \(check)")
            return
        }
        #expect(signer == fingerprint)
        #expect(primary == fingerprint)
        #expect(created >= before - 2 && created <= Int64(time(nil)) + 2)

        var tampered = data
        tampered[5] ^= 1
        guard case .bad = try verifyDetached(data: tampered, signature: signature, keyring: keyring) else {
            Issue.record("tampered data verified")
            return
        }

        let otherSignature = try signDetached(data: data, keyID: otherFingerprint, gnupgHome: otherHome)
        let unknown = try verifyDetached(data: data, signature: otherSignature, keyring: keyring)
        #expect(unknown == .unknownKey(String(otherFingerprint.suffix(16))))

        guard case .error = try verifyDetached(data: data, signature: Array("garbage".utf8), keyring: keyring) else {
            Issue.record("garbage signature not reported as an error")
            return
        }
        #expect(throws: GPGError.self) { try signDetached(data: data, keyID: "--evil", gnupgHome: home) }
        #expect(throws: GPGError.self) { try signDetached(data: data, keyID: "0000000000000000", gnupgHome: home) }
    }

    @Test("the real history: 58 good, 5 bad, 2 unsigned; creation times match MANIFEST.tsv")
    func realHistory() throws {
        let batch = collectSnapshotInputs(paths: [repositoryRoot + "/data/policy-history/history.tar.gz"])
        let rows = try String(contentsOfFile: Self.manifest, encoding: .utf8).split(separator: "\n")
        let header = rows[0].split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        let fileColumn = try #require(header.firstIndex(of: "file"))
        let verifyColumn = try #require(header.firstIndex(of: "asc_verify"))
        let createdColumn = try #require(header.firstIndex(of: "asc_sig_created_utc"))
        var expected: [String: (verdict: String, created: String)] = [:]
        for row in rows.dropFirst() {
            let fields = row.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            expected[fields[fileColumn]] = (fields[verifyColumn], fields[createdColumn])
        }

        var good = 0
        var bad = 0
        var unsigned = 0
        for item in batch.items {
            let row = try #require(expected[item.name])
            guard let asc = item.ascBytes else {
                unsigned += 1
                #expect(row.verdict == "none")
                continue
            }
            switch try verifyDetached(data: item.bytes, signature: asc, keyring: Self.keyring) {
            case .good(_, let primary, let created):
                good += 1
                #expect(primary == "B693F33372E965D76D55368616EEA65D03326C9D")
                #expect(row.verdict == "good", "\(item.name)")
                #expect(iso8601(created) == row.created, "\(item.name)")
            case .bad:
                bad += 1
                #expect(row.verdict == "bad", "\(item.name)")
            case let other:
                Issue.record("\(item.name): \(other)")
            }
        }
        #expect(good == 58)
        #expect(bad == 5)
        #expect(unsigned == 2)
    }

    @Test(
        "status lines map to verdicts",
        arguments: [
            (
                "[GNUPG:] NEWSIG\n[GNUPG:] BADSIG 842AEA40C5BCD6E1 Team",
                SignatureCheck.bad("bad signature (key 842AEA40C5BCD6E1)")
            ),
            (
                "[GNUPG:] ERRSIG 0123456789ABCDEF 22 10 00 1588291200 9 -\n[GNUPG:] NO_PUBKEY 0123456789ABCDEF",
                .unknownKey("0123456789ABCDEF")
            ),
            (
                "[GNUPG:] EXPKEYSIG 842AEA40C5BCD6E1 Team\n[GNUPG:] VALIDSIG AA 2018-06-18 1529340353 0 4 0 1 8 00 BB",
                .bad("signed by an expired key (842AEA40C5BCD6E1)")
            ),
            (
                "[GNUPG:] GOODSIG 842AEA40C5BCD6E1 Team\n[GNUPG:] VALIDSIG AA 2018-06-18 20180618T164553 0 4 0 1 8 00 BB",
                .good(fingerprint: "AA", primaryFingerprint: "BB", created: 1_529_340_353)
            ),
            ("[GNUPG:] NODATA 1", .error("no signature found (NODATA 1)")),
            ("", .error("no verdict in gpgv output")),
        ])
    func statusLines(status: String, expected: SignatureCheck) {
        #expect(parseGPGStatus(status) == expected)
    }
}

/// `2018-06-18T16:45:53Z` for a Unix time.
private func iso8601(_ seconds: Int64) -> String {
    var time = time_t(seconds)
    var parts = tm()
    gmtime_r(&time, &parts)
    return String(
        format: "%04d-%02d-%02dT%02d:%02d:%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
        Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
}
