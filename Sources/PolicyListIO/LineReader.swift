import Glibc
import PolicyListCore

/// Streams the lines of a file (gzip-inflated when the name ends in `.gz`) with 64 KiB reads; memory stays
/// bounded by the longest accepted line.
public final class LineReader {
    /// One line, or a line that was too long to load.
    public enum Item: Sendable, Equatable {
        /// A line (1-based number) without its `\n` (and without a `\r` before it).
        case line(number: Int, bytes: [UInt8])
        /// A line longer than the limit: skipped to the next newline, never loaded whole.
        case tooLong(number: Int, length: Int, limit: Int)
    }

    /// The file being read.
    public let path: String
    private let fd: Int32
    private let inflater: Inflater?
    private let maxLine: Int
    private var pending: [UInt8] = []
    private var start = 0
    private var scanned = 0
    private var lineNumber = 0
    private var skipping = false
    private var skippedLength = 0
    private var endOfFile = false
    private var raw = [UInt8](repeating: 0, count: 64 * 1024)

    /// Opens `path`; lines longer than `limits.maxLineBytes` are reported, not loaded.
    public init(path: String, limits: Limits = .default) throws(PathError) {
        self.path = path
        maxLine = limits.maxLineBytes
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw PathError(path: path, FileErrorWithoutPath(FileError(path: path, operation: "open", errno: errno)))
        }
        if path.lowercased().hasSuffix(".gz") {
            do throws(GzipError) {
                // Streaming bounds memory, so no total size or ratio limit applies here.
                inflater = try Inflater(limit: Int.max, maxRatio: 0, ratioCheckAfter: 0)
            } catch {
                close(fd)
                throw PathError(path: path, error)
            }
        } else {
            inflater = nil
        }
    }

    deinit { close(fd) }

    /// The next line, or nil at the end of the file; throws on read errors and corrupt gzip data.
    public func next() throws(PathError) -> Item? {
        while true {
            if let newline = pending[scanned...].firstIndex(of: UInt8(ascii: "\n")) {
                lineNumber += 1
                let length = newline - start + (skipping ? skippedLength : 0)
                let item: Item
                if skipping || length > maxLine {
                    item = .tooLong(number: lineNumber, length: length, limit: maxLine)
                } else {
                    var end = newline
                    if end > start && pending[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                    item = .line(number: lineNumber, bytes: Array(pending[start..<end]))
                }
                skipping = false
                skippedLength = 0
                start = newline + 1
                scanned = start
                compact()
                return item
            }
            scanned = pending.count
            if pending.count - start > maxLine || skipping {
                // Over-long: drop what is buffered and keep counting until the newline.
                if !skipping { skippedLength = 0 }
                skippedLength += pending.count - start
                skipping = true
                pending.removeAll(keepingCapacity: true)
                start = 0
                scanned = 0
            }
            if endOfFile {
                if skipping {
                    lineNumber += 1
                    skipping = false
                    return .tooLong(number: lineNumber, length: skippedLength, limit: maxLine)
                }
                guard start < pending.count else { return nil }
                lineNumber += 1
                var end = pending.count
                if pending[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                let item = Item.line(number: lineNumber, bytes: Array(pending[start..<end]))
                start = pending.count
                return item
            }
            try fill()
        }
    }

    /// Reads the next chunk (inflating it when needed).
    private func fill() throws(PathError) {
        let count = raw.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR { return }
            throw PathError(path: path, FileErrorWithoutPath(FileError(path: path, operation: "read", errno: errno)))
        }
        guard let inflater else {
            if count == 0 { endOfFile = true } else { pending.append(contentsOf: raw[0..<count]) }
            return
        }
        do throws(GzipError) {
            if count == 0 {
                try inflater.finish()
                endOfFile = true
                return
            }
            try raw.withUnsafeBufferPointer { (buffer) throws(GzipError) in
                try inflater.feed(UnsafeBufferPointer(rebasing: buffer[0..<count])) { pending.append(contentsOf: $0) }
            }
        } catch {
            throw PathError(path: path, error)
        }
    }

    /// Drops consumed bytes once they dominate the buffer.
    private func compact() {
        if start >= 64 * 1024 && start * 2 >= pending.count {
            pending.removeSubrange(0..<start)
            scanned -= start
            start = 0
        }
    }
}
