import Glibc

/// What every child process we start shares: default signal dispositions, an empty signal mask, its own
/// process group (so a timeout or a forwarded signal reaches everything it started), and the parent's
/// environment with overrides. Used by `runProcess` and the pipeline runner's stage processes.
package enum SpawnDefaults {
    /// Initialises `attributes` with the defaults above (the caller destroys it).
    package static func configure(_ attributes: inout posix_spawnattr_t) {
        posix_spawnattr_init(&attributes)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
    }

    /// The current environment with `overrides` applied, as sorted `KEY=VALUE` strings.
    package static func environment(overriding overrides: [String: String]) -> [String] {
        var env: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                env[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            cursor += 1
        }
        for (key, value) in overrides { env[key] = value }
        return env.keys.sorted().map { "\($0)=\(env[$0] ?? "")" }
    }
}
