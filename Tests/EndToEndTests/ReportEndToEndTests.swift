import Foundation
import Testing

/// `policylist-report` run as a built executable: a hostile fixture history rendered in headless Chromium, and the
/// deprecation report after the 2020 replay.
@Suite(.serialized) struct ReportEndToEndTests {
    static let hostileAlias = "mx<script>alert(\"x\")</script>&'"
    static let hostileAuthor = "=HYPERLINK(\"http://evil.example\")&<b>'ops'</b>"

    static func version(_ timestamp: String, _ expires: String, _ policies: String) -> String {
        let alias = jsonString(hostileAlias)
        return """
            {"timestamp": "\(timestamp)", "expires": "\(expires)", "version": "0.1", "author": \(jsonString(hostileAuthor)),
             "policy-aliases": {\(alias): {"mode": "testing", "mxs": [".mx.example.net"]}},
             "policies": {\(policies), "b.example": {"policy-alias": \(alias)}}}
            """
    }

    static func jsonString(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text])) ?? Data("[\"\"]".utf8)
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
    }

    /// Ingests a three-version hostile history with a sequence file and writes the history report.
    static func hostileHistory() throws -> (db: String, out: String) {
        let dir = E2E.tempDir("report-hostile")
        let files = [
            (
                "v1.policy.json",
                version(
                    "2020-01-01T00:00:00Z", "2020-01-15T00:00:00Z",
                    "\"a.example\": {\"mode\": \"testing\", \"mxs\": [\"mx.a.example\"]}")
            ),
            (
                "v2.policy.json",
                version(
                    "2020-01-20T00:00:00Z", "2020-02-03T00:00:00Z",
                    "\"a.example\": {\"mode\": \"enforce\", \"mxs\": [\"mx.a.example\"]}, \"c.example\": {\"mode\": \"testing\", \"mxs\": [\".c.example\"]}"
                )
            ),
            (
                "v3.policy.json",
                version(
                    "2020-02-01T00:00:00Z", "2020-02-15T00:00:00Z",
                    "\"a.example\": {\"mode\": \"enforce\", \"mxs\": [\"mx.a.example\"]}")
            ),
        ]
        for (name, text) in files {
            try? FileManager.default.createDirectory(atPath: dir + "/in", withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: dir + "/in/" + name))
        }
        let tsv =
            "file\tmaster_tip_seq\tlanded_on_master_utc\nv1.policy.json\t1\t\nv2.policy.json\t2\t2020-01-21T00:00:00Z\nv3.policy.json\t3\t\n"
        try Data(tsv.utf8).write(to: URL(fileURLWithPath: dir + "/seq.tsv"))
        let db = dir + "/p.sqlite"
        let ingest = try E2E.run(
            "policylist-ingest", ["snapshots", "--sequence", dir + "/seq.tsv", dir + "/in", "--db", db, "--json"])
        #expect(ingest.summary["accepted"] as? Int == 3, "\(ingest.stderr)")
        let report = try E2E.run(
            "policylist-report",
            ["history", "--out", dir + "/out", "--db", db, "--json", "--now", "2020-03-01T00:00:00Z"])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.summary["published"] as? Int == 3 && report.summary["lapses"] as? Int == 1)
        return (db, dir + "/out")
    }

    @Test func hostileStringsAreEscapedInHTMLMarkdownAndCSV() throws {
        let (_, out) = try Self.hostileHistory()
        let html = String(decoding: E2E.read(out + "/history.html"), as: UTF8.self)
        let markdown = String(decoding: E2E.read(out + "/history.md"), as: UTF8.self)
        let csv = String(decoding: E2E.read(out + "/history.csv"), as: UTF8.self)
        #expect(!html.lowercased().contains("<script") && !html.contains("<b>"))
        #expect(html.contains("mx&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"))
        #expect(html.contains("=HYPERLINK(&quot;http://evil.example&quot;)&amp;&lt;b&gt;&#39;ops&#39;&lt;/b&gt;"))
        #expect(!markdown.contains("<script") && !markdown.contains("<b>"))
        #expect(markdown.contains("mx&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;'"))
        #expect(csv.contains("\"'=HYPERLINK(\"\"http://evil.example\"\")&<b>'ops'</b>\""))
        #expect(!csv.contains(",=HYPERLINK") && !csv.contains(",\"=HYPERLINK"))
    }

    /// Counts the pixels near each colour in a PNG (decoded with Python's zlib: no image library needed).
    static func countPixels(_ png: String, near colors: [(Int, Int, Int)]) throws -> [Int] {
        let script = """
            import sys, zlib, struct
            data = open(sys.argv[1], 'rb').read()
            assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n'
            pos, idat, w, h, ctype = 8, b'', 0, 0, 0
            while pos < len(data):
                n, kind = struct.unpack('>I4s', data[pos:pos + 8]); body = data[pos + 8:pos + 8 + n]; pos += 12 + n
                if kind == b'IHDR': w, h, depth, ctype = struct.unpack('>IIBB', body[:10]); assert depth == 8 and body[12] == 0
                elif kind == b'IDAT': idat += body
            bpp = {2: 3, 6: 4}[ctype]; raw = zlib.decompress(idat); stride = w * bpp
            prev = bytearray(stride); cs = [tuple(int(v) for v in a.split(',')) for a in sys.argv[2:]]; out = [0] * len(cs)
            for y in range(h):
                f = raw[y * (stride + 1)]; line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
                for i in range(stride):
                    a = line[i - bpp] if i >= bpp else 0; b = prev[i]; c = prev[i - bpp] if i >= bpp else 0
                    if f == 1: line[i] = (line[i] + a) & 255
                    elif f == 2: line[i] = (line[i] + b) & 255
                    elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
                    elif f == 4:
                        p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                        line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
                for x in range(0, stride, bpp):
                    if line[x] > 235 and line[x + 1] > 235 and line[x + 2] > 235: continue
                    for k, (r0, g0, b0) in enumerate(cs):
                        if abs(line[x] - r0) < 24 and abs(line[x + 1] - g0) < 24 and abs(line[x + 2] - b0) < 24: out[k] += 1
                prev = line
            print(' '.join(map(str, out)))
            """
        let result = try E2E.run("/usr/bin/python3", ["-c", script, png] + colors.map { "\($0.0),\($0.1),\($0.2)" })
        return result.stdout.split(separator: " ").map { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1 }
    }

    static func screenshot(_ html: String, _ png: String) throws -> E2E.Result {
        try E2E.run(
            "/usr/bin/chromium",
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--screenshot=\(png)",
                "--window-size=1200,2000", "file://\(html)",
            ], environment: ["HOME": E2E.tempDir("chromium-home")])
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")))
    func htmlRendersInHeadlessChromiumAndTheChartsDraw() throws {
        let (_, out) = try Self.hostileHistory()
        let html = out + "/history.html"
        let shot = try Self.screenshot(html, out + "/page.png")
        #expect(FileManager.default.fileExists(atPath: out + "/page.png"), "\(shot.stderr)")
        // The same page with every chart emptied: what a page whose SVG did not draw looks like.
        var blank = String(decoding: E2E.read(html), as: UTF8.self)
        while let start = blank.range(of: "<svg "),
            let end = blank.range(of: "</svg>", range: start.upperBound..<blank.endIndex)
        {
            blank.replaceSubrange(start.lowerBound..<end.upperBound, with: "<div style=\"height:360px\"></div>")
        }
        try Data(blank.utf8).write(to: URL(fileURLWithPath: out + "/blank.html"))
        _ = try Self.screenshot(out + "/blank.html", out + "/blank.png")
        // The testing series (#0969da), the enforce series (#1a7f37) and the lapse on the time line (#cf222e).
        let colors = [(0x09, 0x69, 0xda), (0x1a, 0x7f, 0x37), (0xcf, 0x22, 0x2e)]
        let page = try Self.countPixels(out + "/page.png", near: colors)
        let empty = try Self.countPixels(out + "/blank.png", near: colors)
        #expect(page.count == 3 && empty.count == 3)
        #expect(page.count == 3 && page[0] > 2_000 && page[1] > 2_000 && page[2] > 100, "drawn: \(page)")
        #expect(empty.count == 3 && empty[0] < 200 && empty[1] < 200, "blank: \(empty)")
    }

    @Test func deprecationAfterTheFullReplay() throws {
        let replay = try ReplayEndToEndTests.fullReplay(scansFirst: false)
        let dir = E2E.tempDir("report-replay")
        func report(_ args: [String]) throws -> E2E.Result {
            try E2E.run("policylist-report", ["deprecation"] + args + ["--db", replay.db, "--json"])
        }
        let final = try report(["--out", dir + "/final", "--now", "2020-06-10T00:00:00Z"])
        #expect(final.status == 0, "\(final.stderr)")
        #expect(final.summary["basis"] as? String == "publication" && final.summary["domains"] as? Int == 926)
        #expect(final.summary["addedAtFreeze"] as? Int == 476)
        #expect(final.summary["removedOnRequest"] as? Int == 16)
        #expect(final.summary["refreshedToEnforce"] as? Int == 361)
        #expect(final.summary["adoptionObserved"] as? Bool == true)
        let json =
            (try? JSONSerialization.jsonObject(with: E2E.read(dir + "/final/deprecation.json"))) as? [String: Any]
        #expect(json?["schemaVersion"] as? Int == 1)
        let list = json?["list"] as? [String: Any]
        #expect(
            list?["enforce"] as? Int == 361 && list?["testing"] as? Int == 553 && list?["aliasReferences"] as? Int == 12
        )
        let adoption = (json?["adoption"] as? [String: Any])?["mtaSts"] as? [String: Int]
        // From scans.jsonl: 361 valid enforce, 40 valid testing (A), 20 failing (B) + 5 whose latest scan fails (C).
        #expect(adoption == ["enforce": 361, "testing": 40, "none": 0, "broken": 25, "absent": 0, "unobserved": 500])
        let provenance = json?["provenance"] as? [String: [String: Int]]
        #expect(provenance?["mta-sts"]?["domains"] == 361 && provenance?["mta-sts"]?["enforce"] == 361)
        let fromQueue = provenance?["queue-at-freeze"]?["domains"] ?? 0
        #expect(fromQueue + (provenance?["manual"]?["domains"] ?? 0) == 565)
        let csv = String(decoding: E2E.read(dir + "/final/deprecation.csv"), as: UTF8.self)
        #expect(csv.split(separator: "\r\n").count == 927 && !csv.contains("postmaster@"))
        let html = String(decoding: E2E.read(dir + "/final/deprecation.html"), as: UTF8.self)
        #expect(html.contains("<svg ") && !html.lowercased().contains("<script"))
        // As of the freeze publication (seq 53): the queue batch and the removals, no refresh yet.
        let early = try report(["--out", dir + "/early", "--as-of", "2020-04-16T00:00:00Z"])
        #expect(early.summary["addedAtFreeze"] as? Int == 476 && early.summary["refreshedToEnforce"] as? Int == 0)
        // Before any publication: the newest ingested published snapshot, no decisions.
        let before = try report(["--out", dir + "/before", "--as-of", "2020-04-10T00:00:00Z"])
        #expect(before.summary["basis"] as? String == "snapshot" && before.summary["addedAtFreeze"] as? Int == 0)
    }

    @Test func usageErrors() throws {
        #expect(try E2E.run("policylist-report", ["history"]).status == 64)
        #expect(try E2E.run("policylist-report", ["bogus", "--out", "/tmp/x"]).status == 64)
        #expect(
            try E2E.run("policylist-report", ["history", "--out", "/tmp/x", "--as-of", "2020-01-01T00:00:00Z"]).status
                == 64)
        #expect(try E2E.run("policylist-report", ["--help"]).status == 0)
    }
}
