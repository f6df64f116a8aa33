import Glibc
import Synchronization

/// A one-line progress display on stderr (count, rate, optional total and percent), redrawn at most ~10
/// times a second, and only when stderr is a terminal; silent otherwise. Safe to call from any thread.
public final class ProgressReporter: Sendable {
    private struct State {
        var count = 0
        var total: Int?
        var lastDraw: ContinuousClock.Instant?
        var drawn = false
        var finished = false
    }

    private let label: String
    private let enabled: Bool
    private let started: ContinuousClock.Instant
    private let interval: Duration
    private let sink: @Sendable (String) -> Void
    private let state: Mutex<State>

    /// A reporter drawing on stderr when it is a terminal.
    public convenience init(label: String, total: Int? = nil) {
        self.init(label: label, total: total, enabled: isatty(2) == 1, interval: .milliseconds(100)) { text in
            let bytes = Array(text.utf8)
            var offset = 0
            while offset < bytes.count {
                let count = bytes.withUnsafeBytes { write(2, $0.baseAddress.map { $0 + offset }, $0.count - offset) }
                if count <= 0 { return }
                offset += count
            }
        }
    }

    /// A reporter writing through `sink` (tests), drawing only when `enabled`.
    init(
        label: String, total: Int?, enabled: Bool, interval: Duration, sink: @escaping @Sendable (String) -> Void
    ) {
        self.label = label
        self.enabled = enabled
        self.interval = interval
        self.sink = sink
        started = ContinuousClock.now
        state = Mutex(State(total: total))
    }

    /// Sets or changes the total once it is known.
    public func setTotal(_ total: Int?) {
        state.withLock { $0.total = total }
    }

    /// Adds `count` finished items and redraws if the last draw is old enough.
    public func advance(by count: Int = 1) {
        guard enabled else {
            state.withLock { $0.count += count }
            return
        }
        state.withLock { state in
            state.count += count
            guard !state.finished else { return }
            let now = ContinuousClock.now
            if let last = state.lastDraw, now - last < interval { return }
            state.lastDraw = now
            state.drawn = true
            sink("\r\u{1B}[K" + line(state, now: now))
        }
    }

    /// The number of items counted so far.
    public var count: Int { state.withLock { $0.count } }

    /// Clears the line (if one was drawn); later calls draw nothing.
    public func finish() {
        state.withLock { state in
            guard !state.finished else { return }
            state.finished = true
            if enabled && state.drawn { sink("\r\u{1B}[K") }
        }
    }

    private func line(_ state: State, now: ContinuousClock.Instant) -> String {
        let elapsed = now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Int((Double(state.count) / seconds).rounded()) : 0
        var text = "\(label): \(state.count)"
        if let total = state.total, total > 0 {
            text += "/\(total) (\(min(100, state.count * 100 / total))%)"
        }
        return text + ", \(rate)/s"
    }
}
