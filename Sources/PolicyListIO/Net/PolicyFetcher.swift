import CCurl
import Foundation
import PolicyListCore
import Synchronization

/// The result of fetching an MTA-STS policy over HTTPS. Failures are values, never thrown.
public enum PolicyFetchOutcome: Sendable, Hashable {
    /// HTTP 200 with the whole body (at most the size cap). The Content-Type is as sent; a policy
    /// must be `text/plain` (RFC 8461 §3.2), which `observationStatus` checks.
    case ok(status: Int, contentType: String?, body: [UInt8])
    /// Any other non-redirect status, with what was received of the body (up to the cap).
    case httpStatus(Int, contentType: String?, body: [UInt8]?)
    /// A 3xx response; redirects are never followed (RFC 8461 §3.3). `location` is the raw header.
    case redirect(Int, location: String?)
    /// The body was larger than the cap; the transfer was aborted.
    case tooLarge
    /// TLS failed: certificate not trusted, expired, wrong name, handshake error.
    case tlsError(String)
    /// The connect timeout, total timeout or low-speed limit was hit.
    case timeout
    /// Anything else (connection refused, protocol not allowed…), with a message.
    case error(String)

    /// The observation vocabulary: `ok|http-status|content-type|redirect|too-large|tls-error|timeout|error`.
    /// A 200 whose media type is not `text/plain` is `content-type`.
    public var observationStatus: String {
        switch self {
        case .ok(_, let contentType, _): Self.isTextPlain(contentType) ? "ok" : "content-type"
        case .httpStatus: "http-status"
        case .redirect: "redirect"
        case .tooLarge: "too-large"
        case .tlsError: "tls-error"
        case .timeout: "timeout"
        case .error: "error"
        }
    }

    /// The HTTP status code, when a response was received.
    public var httpStatus: Int? {
        switch self {
        case .ok(let status, _, _), .httpStatus(let status, _, _), .redirect(let status, _): status
        default: nil
        }
    }

    /// The Content-Type header as sent, when a response with one was received.
    public var contentType: String? {
        switch self {
        case .ok(_, let contentType, _), .httpStatus(_, let contentType, _): contentType
        default: nil
        }
    }

    /// The body bytes, when received.
    public var body: [UInt8]? {
        switch self {
        case .ok(_, _, let body): body
        case .httpStatus(_, _, let body): body
        default: nil
        }
    }

    /// The body decoded as UTF-8, or nil if there is none or it is not valid UTF-8.
    public var bodyText: String? {
        guard let body else { return nil }
        return String(validating: body, as: UTF8.self)
    }

    /// A human-readable detail for failures (the TLS or transport message, the redirect target).
    public var detail: String? {
        switch self {
        case .tlsError(let message), .error(let message): message
        case .redirect(_, let location): location
        default: nil
        }
    }

    /// True when the media type (before any parameter) is `text/plain`, case-insensitively.
    public static func isTextPlain(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first ?? ""
        return mediaType.trimmingCharacters(in: .whitespaces).lowercased() == "text/plain"
    }
}

/// Fetches `https://mta-sts.<domain>/.well-known/mta-sts.txt`. The observer depends on this protocol only.
public protocol PolicyFetcher: Sendable {
    /// Fetches the policy of `domain`. Non-empty `addresses` pin the policy host to those IP addresses
    /// (as from the observer's own DNS lookups), so the HTTP client does no DNS of its own.
    func fetchPolicy(domain: String, addresses: [String]) async -> PolicyFetchOutcome
}

extension PolicyFetcher {
    /// Fetches the policy of `domain`, letting the client resolve the host.
    public func fetchPolicy(domain: String) async -> PolicyFetchOutcome {
        await fetchPolicy(domain: domain, addresses: [])
    }
}

/// A policy fetcher over libcurl: one easy handle per request at a time (reused from a pool), run on a worker
/// thread.
///
/// Redirects are never followed, only `https` is allowed, the peer certificate and host name are
/// verified, the body is capped (aborting past it), and connect/total/low-speed limits bound every
/// request. Cancelling the calling task aborts the transfer.
public struct CurlPolicyFetcher: PolicyFetcher {
    /// Which certificate authorities are trusted.
    public enum TrustAnchors: Sendable, Hashable {
        /// The system's CA store (libcurl's defaults).
        case system
        /// The system's store plus the CAs in this PEM file (`--ca-file`).
        case adding(String)
        /// Only the CAs in this PEM file.
        case replacing(String)
    }

    /// How requests are made.
    public struct Configuration: Sendable, Hashable {
        /// Trusted CAs.
        public var trust: TrustAnchors
        /// `HOST:PORT:ADDR[,ADDR]…` entries, like curl's `--resolve`.
        public var resolve: [String]
        /// `HOST:PORT:CONNECT-HOST:CONNECT-PORT` entries, like curl's `--connect-to` (empty HOST or PORT
        /// match any), which send a request elsewhere without changing its URL, Host or SNI.
        public var connectTo: [String]
        /// A port to put in the policy URL (tests on a high port); nil means 443.
        public var port: Int?
        /// Time allowed for TCP connect and TLS handshake.
        public var connectTimeout: Duration
        /// Time allowed for the whole request.
        public var totalTimeout: Duration
        /// Abort when fewer than this many bytes per second arrive for `lowSpeedTime` (0 disables).
        public var lowSpeedBytesPerSecond: Int
        /// See `lowSpeedBytesPerSecond`; whole seconds.
        public var lowSpeedTime: Duration
        /// The body cap: larger bodies yield `.tooLarge` (RFC 8461 §3.3 suggests 64 KiB).
        public var maxBodyBytes: Int
        /// The User-Agent header.
        public var userAgent: String

        /// Creates a configuration; defaults: system CAs, 10 s connect, 30 s total, abort below
        /// 10 bytes/s for 10 s, 64 KiB cap.
        public init(
            trust: TrustAnchors = .system, resolve: [String] = [], connectTo: [String] = [], port: Int? = nil,
            connectTimeout: Duration = .seconds(10), totalTimeout: Duration = .seconds(30),
            lowSpeedBytesPerSecond: Int = 10, lowSpeedTime: Duration = .seconds(10), maxBodyBytes: Int = 65_536,
            userAgent: String = "policylist-observe"
        ) {
            self.trust = trust
            self.resolve = resolve
            self.connectTo = connectTo
            self.port = port
            self.connectTimeout = connectTimeout
            self.totalTimeout = totalTimeout
            self.lowSpeedBytesPerSecond = lowSpeedBytesPerSecond
            self.lowSpeedTime = lowSpeedTime
            self.maxBodyBytes = maxBodyBytes
            self.userAgent = userAgent
        }
    }

    /// The configuration every request uses.
    public let configuration: Configuration
    private let ca: CASetup

    /// Creates a fetcher; a missing or unreadable CA file, or a malformed `resolve`/`connectTo` entry,
    /// is a usage error.
    public init(_ configuration: Configuration = Configuration()) throws(UsageError) {
        _ = CurlGlobal.initialized
        for entry in configuration.resolve where !Self.isValidResolve(entry) {
            throw UsageError("resolve \"\(entry)\": expected HOST:PORT:ADDR[,ADDR]")
        }
        for entry in configuration.connectTo
        where entry.split(separator: ":", omittingEmptySubsequences: false)
            .count < 4
        {
            throw UsageError("connect-to \"\(entry)\": expected HOST:PORT:CONNECT-HOST:CONNECT-PORT")
        }
        self.configuration = configuration
        self.ca = try CASetup(configuration.trust)
    }

    /// The policy URL of `domain` (RFC 8461 §3.3), with `port` if given.
    public static func policyURL(domain: String, port: Int? = nil) -> String {
        let host = "mta-sts." + domain.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        return "https://\(host)\(port.map { ":\($0)" } ?? "")/.well-known/mta-sts.txt"
    }

    /// Fetches the policy of `domain`; see `PolicyFetcher`.
    public func fetchPolicy(domain: String, addresses: [String]) async -> PolicyFetchOutcome {
        let url = Self.policyURL(domain: domain, port: configuration.port)
        var pinned: [String] = []
        if !addresses.isEmpty {
            let host = "mta-sts." + domain.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
            let list = addresses.map { $0.contains(":") ? "[\($0)]" : $0 }.joined(separator: ",")
            pinned = ["\(host):\(configuration.port ?? 443):\(list)"]
        }
        return await fetch(url: url, resolve: pinned)
    }

    /// GETs `url` with this fetcher's rules; `resolve` entries are added to the configured ones.
    public func fetch(url: String, resolve: [String] = []) async -> PolicyFetchOutcome {
        let request = Request(
            url: url, resolve: configuration.resolve + resolve, configuration: configuration, ca: ca)
        let flag = CancelFlag()
        return await withTaskCancellationHandler {
            await BlockingWork.run(fallback: .error("cancelled")) { request.perform(cancel: flag) }
        } onCancel: {
            flag.cancel()
        }
    }

    private static func isValidResolve(_ entry: String) -> Bool {
        let parts = entry.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count == 3 && !parts[0].isEmpty && UInt16(parts[1].trimmingPrefix("+")) != nil
            && !parts[2].isEmpty
    }
}

/// `curl_global_init` exactly once per process (a Swift global `let` is initialised once, thread-safely).
private enum CurlGlobal {
    static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_SSL | CURL_GLOBAL_WIN32)) == CURLE_OK
}

/// Easy handles kept between requests: creating and cleaning up a handle (and the multi handle
/// `curl_easy_perform` makes inside it) per request was ~5 % of the observer's CPU. Every request sets all its
/// options again after `curl_easy_reset`, and the ones that would carry state over are set so that none does
/// (see `Request.perform`). At most `maxIdle` handles wait here; the observer's concurrency bound keeps the
/// number in use bounded too.
private final class CurlHandlePool: Sendable {
    /// A handle and the `HOST:PORT` keys its last request pinned with CURLOPT_RESOLVE (still in its DNS cache).
    struct Pooled {
        let handle: UnsafeMutableRawPointer
        let pinned: [String]
    }

    /// The process-wide pool.
    static let shared = CurlHandlePool()
    /// Idle handles kept at most.
    let maxIdle = 256
    // Raw pointers as bit patterns, so the guarded value is plainly Sendable.
    private let idle = Mutex<[(handle: UInt, pinned: [String])]>([])

    /// An idle handle, or a new one (nil only when libcurl cannot make one).
    func take() -> Pooled? {
        if let entry = idle.withLock({ $0.popLast() }), let handle = UnsafeMutableRawPointer(bitPattern: entry.handle) {
            return Pooled(handle: handle, pinned: entry.pinned)
        }
        return curl_easy_init().map { Pooled(handle: $0, pinned: []) }
    }

    /// Resets `handle` and keeps it for the next request (or cleans it up when enough are idle).
    func give(_ handle: UnsafeMutableRawPointer, pinned: [String]) {
        curl_easy_reset(handle)
        let kept = idle.withLock { handles in
            guard handles.count < maxIdle else { return false }
            handles.append((UInt(bitPattern: handle), pinned))
            return true
        }
        if !kept { curl_easy_cleanup(handle) }
    }

    /// `HOST:PORT` of a CURLOPT_RESOLVE entry `[+]HOST:PORT:ADDR…` (what a `-HOST:PORT` entry removes).
    static func key(ofResolve entry: String) -> String? {
        let parts = entry.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        return "\(parts[0].trimmingPrefix("+")):\(parts[1])"
    }
}

/// How the trusted CAs are handed to libcurl, worked out once per fetcher.
///
/// With libcurl's OpenSSL backend the CAs are loaded once into an `X509_STORE` shared by every connection
/// (`SharedCAStore`, handed over in CURLOPT_SSL_CTX_FUNCTION), as a long-running TLS client does: libcurl
/// otherwise builds a store per connection — a PEM decode of every CA each time (Debian's bundle has ~140),
/// which was the observer's largest CPU cost. The store holds the system bundle (Debian's
/// `update-ca-certificates` writes it from the same certificates as the `/etc/ssl/certs` directory), the
/// given file, or both. Where that cannot be done, the CA options below go to libcurl as before.
private struct CASetup: Sendable, Hashable {
    var caInfo: String?
    var caPath: String?
    var clearCAPath = false
    var blob: [UInt8]?
    /// The shared store (an `X509_STORE *` bit pattern), used instead of the options above when set.
    var store: UInt?

    init(_ trust: CurlPolicyFetcher.TrustAnchors) throws(UsageError) {
        switch trust {
        case .system:
            if let defaultInfo = Self.defaults().0, FileManager.default.isReadableFile(atPath: defaultInfo) {
                store = SharedCAStore.store(for: [defaultInfo])
            }
        case .replacing(let file):
            try Self.checkReadable(file)
            caInfo = file
            clearCAPath = true
            store = SharedCAStore.store(for: [file])
        case .adding(let file):
            try Self.checkReadable(file)
            let (defaultInfo, defaultPath) = Self.defaults()
            if let defaultInfo, FileManager.default.isReadableFile(atPath: defaultInfo) {
                store = SharedCAStore.store(for: [defaultInfo, file])
            }
            if defaultPath != nil {
                caInfo = file  // the default CA directory stays in use alongside the file
            } else if let defaultInfo, let system = FileManager.default.contents(atPath: defaultInfo),
                let extra = FileManager.default.contents(atPath: file)
            {
                blob = Array(system) + [0x0A] + Array(extra)
            } else {
                caInfo = file
            }
        }
    }

    private static func checkReadable(_ file: String) throws(UsageError) {
        guard FileManager.default.isReadableFile(atPath: file) else {
            throw UsageError("CA file \"\(file)\" does not exist or is not readable")
        }
    }

    /// libcurl's built-in CA bundle and directory.
    private static func defaults() -> (String?, String?) {
        guard let handle = curl_easy_init() else { return (nil, nil) }
        defer { curl_easy_cleanup(handle) }
        var info: UnsafeMutablePointer<CChar>?
        var path: UnsafeMutablePointer<CChar>?
        _ = policylist_curl_getinfo_string(handle, CURLINFO_CAINFO, &info)
        _ = policylist_curl_getinfo_string(handle, CURLINFO_CAPATH, &path)
        return (info.map { String(cString: $0) }, path.map { String(cString: $0) })
    }
}

/// CA stores shared by every connection of the process, one per list of PEM files, each built once.
private enum SharedCAStore {
    private static let stores = Mutex<[[String]: UInt]>([:])

    /// The `X509_STORE *` (as a bit pattern) holding the certificates of `files`, or nil when one of them
    /// holds none that OpenSSL can read.
    static func store(for files: [String]) -> UInt? {
        stores.withLock { stores in
            if let made = stores[files] { return made }
            guard let store = policylist_ca_store_new() else { return nil }
            for file in files where policylist_ca_store_load(store, file) != 1 {
                policylist_ca_store_free(store)
                return nil
            }
            guard policylist_ca_store_count(store) > 0 else {
                policylist_ca_store_free(store)
                return nil
            }
            stores[files] = UInt(bitPattern: store)
            return UInt(bitPattern: store)
        }
    }
}

/// Set by the task's cancellation handler, read by libcurl's progress callback.
private final class CancelFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func cancel() { value.store(true, ordering: .releasing) }
    var isCancelled: Bool { value.load(ordering: .acquiring) }
}

/// Per-transfer state reached from libcurl's callbacks through an `Unmanaged` context pointer.
private final class Transfer {
    var body: [UInt8] = []
    let limit: Int
    var exceeded = false
    let cancel: CancelFlag

    init(limit: Int, cancel: CancelFlag) {
        self.limit = limit
        self.cancel = cancel
    }
}

/// One request, performed synchronously on a worker thread.
private struct Request: Sendable {
    let url: String
    let resolve: [String]
    let configuration: CurlPolicyFetcher.Configuration
    let ca: CASetup

    func perform(cancel: CancelFlag) -> PolicyFetchOutcome {
        guard CurlGlobal.initialized, let pooled = CurlHandlePool.shared.take() else {
            return .error("libcurl could not be initialised")
        }
        let handle = pooled.handle
        var lists: [UnsafeMutablePointer<curl_slist>] = []
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        defer {
            // Reset (which drops the option pointers) before the lists it pointed at are freed.
            CurlHandlePool.shared.give(handle, pinned: resolve.compactMap(CurlHandlePool.key(ofResolve:)))
            lists.forEach { curl_slist_free_all($0) }
            errorBuffer.deallocate()
        }
        let transfer = Transfer(limit: configuration.maxBodyBytes, cancel: cancel)
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        var failed: CURLcode = CURLE_OK
        func set(_ option: CURLoption, _ value: Int) {
            let rc = policylist_curl_setopt_long(handle, option, value)
            if rc != CURLE_OK, failed == CURLE_OK { failed = rc }
        }
        func set(_ option: CURLoption, _ value: String?) {
            let rc =
                if let value { value.withCString { policylist_curl_setopt_ptr(handle, option, $0) } } else {
                    policylist_curl_setopt_ptr(handle, option, nil)
                }
            if rc != CURLE_OK, failed == CURLE_OK { failed = rc }
        }
        func set(_ option: CURLoption, list entries: [String]) {
            guard !entries.isEmpty else { return }
            var list: UnsafeMutablePointer<curl_slist>?
            for entry in entries { list = curl_slist_append(list, entry) }
            guard let list else { return }
            lists.append(list)
            let rc = policylist_curl_setopt_ptr(handle, option, list)
            if rc != CURLE_OK, failed == CURLE_OK { failed = rc }
        }

        set(CURLOPT_URL, url)
        set(CURLOPT_PROTOCOLS_STR, "https")
        set(CURLOPT_REDIR_PROTOCOLS_STR, "https")
        set(CURLOPT_FOLLOWLOCATION, 0)
        set(CURLOPT_SSL_VERIFYPEER, 1)
        set(CURLOPT_SSL_VERIFYHOST, 2)
        set(CURLOPT_NOSIGNAL, 1)
        _ = policylist_curl_setopt_ptr(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        set(CURLOPT_USERAGENT, configuration.userAgent)
        set(CURLOPT_CONNECTTIMEOUT_MS, milliseconds(configuration.connectTimeout))
        set(CURLOPT_TIMEOUT_MS, milliseconds(configuration.totalTimeout))
        if configuration.lowSpeedBytesPerSecond > 0 {
            set(CURLOPT_LOW_SPEED_LIMIT, configuration.lowSpeedBytesPerSecond)
            set(CURLOPT_LOW_SPEED_TIME, max(1, milliseconds(configuration.lowSpeedTime) / 1000))
        }
        set(CURLOPT_MAXFILESIZE, configuration.maxBodyBytes)  // early refusal when Content-Length says so
        // A reused handle behaves like a fresh one: no connection kept or reused, no TLS session resumed (each
        // fetch verifies the certificate in a full handshake), no CA store cached by libcurl, no host name cached
        // from a lookup of its own, and the previous request's pinned addresses removed from the handle's DNS
        // cache before this request's are added (tested: "reused handles carry nothing over").
        set(CURLOPT_FORBID_REUSE, 1)
        set(CURLOPT_SSL_SESSIONID_CACHE, 0)
        set(CURLOPT_CA_CACHE_TIMEOUT, 0)
        set(CURLOPT_DNS_CACHE_TIMEOUT, 0)
        set(CURLOPT_RESOLVE, list: pooled.pinned.map { "-" + $0 } + resolve)
        set(CURLOPT_CONNECT_TO, list: configuration.connectTo)
        let sharedStore: Bool =
            if let store = ca.store, let pointer = UnsafeMutableRawPointer(bitPattern: store) {
                policylist_curl_use_ca_store(handle, pointer) == CURLE_OK
            } else { false }
        if sharedStore {
            // Nothing for libcurl to load: the callback hands every connection the shared store. libcurl's own
            // CA-store cache must stay off (above): it would keep whichever store the connection ended up with
            // (ours, set by the callback before libcurl's store setup) and hand it to the handle's next request,
            // whatever that request's trust (the test "fetchers with different trust share nothing" caught it).
            set(CURLOPT_CAINFO, nil)
            set(CURLOPT_CAPATH, nil)
        } else {
            if let caInfo = ca.caInfo { set(CURLOPT_CAINFO, caInfo) }
            if ca.clearCAPath { set(CURLOPT_CAPATH, nil) }
        }
        _ = policylist_curl_setopt_ptr(handle, CURLOPT_WRITEDATA, context)
        _ = policylist_curl_setopt_write(handle) { data, size, count, context in
            guard let context else { return 0 }
            let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
            let length = size * count
            guard transfer.body.count + length <= transfer.limit else {
                transfer.exceeded = true
                return 0  // != length: libcurl aborts with CURLE_WRITE_ERROR
            }
            if let data, length > 0 {
                data.withMemoryRebound(to: UInt8.self, capacity: length) {
                    transfer.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
                }
            }
            return length
        }
        set(CURLOPT_NOPROGRESS, 0)
        _ = policylist_curl_setopt_ptr(handle, CURLOPT_XFERINFODATA, context)
        _ = policylist_curl_setopt_xferinfo(handle) { context, _, _, _, _ in
            guard let context else { return 0 }
            return Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue().cancel.isCancelled ? 1 : 0
        }

        let blobResult: CURLcode =
            if !sharedStore, let blob = ca.blob {
                blob.withUnsafeBytes { raw in
                    var value = curl_blob(
                        data: UnsafeMutableRawPointer(mutating: raw.baseAddress), len: raw.count,
                        flags: UInt32(CURL_BLOB_COPY))
                    return policylist_curl_setopt_ptr(handle, CURLOPT_CAINFO_BLOB, &value)
                }
            } else { CURLE_OK }
        if failed == CURLE_OK { failed = blobResult }
        guard failed == CURLE_OK else {
            return .error("libcurl option refused: \(String(cString: curl_easy_strerror(failed)))")
        }

        let rc = withExtendedLifetime(transfer) { curl_easy_perform(handle) }
        var status = 0
        _ = policylist_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        let message = errorBuffer.pointee != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(rc))

        switch rc {
        case CURLE_OK:
            break
        case CURLE_WRITE_ERROR where transfer.exceeded, CURLE_FILESIZE_EXCEEDED:
            if status == 200 || status == 0 { return .tooLarge }
            if (300..<400).contains(status) { return .redirect(status, location: location(handle)) }
            return .httpStatus(status, contentType: contentType(handle), body: transfer.body)
        case CURLE_OPERATION_TIMEDOUT:
            return .timeout
        case CURLE_ABORTED_BY_CALLBACK:
            return .error("cancelled")
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CRL_BADFILE,
            CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED,
            CURLE_USE_SSL_FAILED, CURLE_SSL_CLIENTCERT:
            return .tlsError(message)
        default:
            return .error(message)
        }
        switch status {
        case 200: return .ok(status: 200, contentType: contentType(handle), body: transfer.body)
        case 300..<400: return .redirect(status, location: location(handle))
        default: return .httpStatus(status, contentType: contentType(handle), body: transfer.body)
        }
    }

    private func contentType(_ handle: UnsafeMutableRawPointer) -> String? {
        var value: UnsafeMutablePointer<CChar>?
        guard policylist_curl_getinfo_string(handle, CURLINFO_CONTENT_TYPE, &value) == CURLE_OK, let value else {
            return nil
        }
        return String(cString: value)
    }

    private func location(_ handle: UnsafeMutableRawPointer) -> String? {
        var header: UnsafeMutablePointer<curl_header>?
        guard curl_easy_header(handle, "Location", 0, UInt32(CURLH_HEADER), -1, &header) == CURLHE_OK,
            let header, let value = header.pointee.value
        else { return nil }
        return String(cString: value)
    }
}

private func milliseconds(_ duration: Duration) -> Int {
    let (seconds, attoseconds) = duration.components
    return Int(clamping: seconds) &* 1000 &+ Int(attoseconds / 1_000_000_000_000_000)
}
