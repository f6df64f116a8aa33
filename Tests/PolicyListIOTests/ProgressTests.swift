import Synchronization
import Testing

@testable import PolicyListIO

@Suite("Progress")
struct ProgressTests {
    /// Collects everything a reporter writes.
    final class Sink: Sendable {
        let written = Mutex<[String]>([])
        func write(_ text: String) { written.withLock { $0.append(text) } }
        var all: [String] { written.withLock { $0 } }
    }

    @Test("silent when stderr is not a terminal, but still counting")
    func silent() {
        let sink = Sink()
        let progress = ProgressReporter(label: "snapshots", total: 3, enabled: false, interval: .zero) {
            sink.write($0)
        }
        progress.advance()
        progress.advance(by: 2)
        progress.finish()
        #expect(sink.all.isEmpty)
        #expect(progress.count == 3)
    }

    @Test("draws count, total and percent on one line and clears it on finish")
    func draws() {
        let sink = Sink()
        let progress = ProgressReporter(label: "domains", total: 200, enabled: true, interval: .zero) { sink.write($0) }
        progress.advance(by: 50)
        progress.finish()
        progress.advance()
        let written = sink.all
        #expect(written.count == 2)
        #expect(written.first?.hasPrefix("\r\u{1B}[Kdomains: 50/200 (25%), ") == true)
        #expect(written.first?.hasSuffix("/s") == true)
        #expect(written.last == "\r\u{1B}[K")
    }

    @Test("redraws are rate-limited")
    func rateLimited() {
        let sink = Sink()
        let progress = ProgressReporter(label: "x", total: nil, enabled: true, interval: .seconds(3600)) {
            sink.write($0)
        }
        for _ in 0..<1000 { progress.advance() }
        #expect(sink.all.count == 1)
        #expect(sink.all.first?.hasPrefix("\r\u{1B}[Kx: 1, ") == true)
    }

    @Test("advancing from many tasks at once loses no counts")
    func concurrent() async {
        let progress = ProgressReporter(label: "x", total: nil, enabled: true, interval: .milliseconds(1)) { _ in }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask { for _ in 0..<10_000 { progress.advance() } }
            }
        }
        #expect(progress.count == 80_000)
    }
}
