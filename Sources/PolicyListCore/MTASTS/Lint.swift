extension MTASTS {
    /// The `policylist-observe check-policy` line for one policy file (CONTRACT.md), key order fixed:
    /// `input, valid, lenientValid, version, mode, maxAge, mx, errors, warnings`.
    ///
    /// `valid` is the strict verdict, `lenientValid` the lenient one. `version`/`mode`/`maxAge`/`mx` come
    /// from the strict parse when strictly valid, else from the lenient parse when leniently valid, else
    /// they are `null`. `errors` holds the strict reason (empty when valid); `warnings` the strict then the
    /// lenient warnings, each once.
    public static func lintPolicy(input: String, verdicts: PolicyVerdicts) -> JSONValue {
        let parsed = verdicts.strict.parsed ?? verdicts.lenient.parsed
        var warnings: [String] = []
        for issue in verdicts.strict.warnings + verdicts.lenient.warnings {
            let text = issue.description
            if !warnings.contains(text) { warnings.append(text) }
        }
        return .object([
            "input": .string(input),
            "valid": .bool(verdicts.strict.isValid),
            "lenientValid": .bool(verdicts.lenient.isValid),
            "version": .optional(parsed?.version),
            "mode": .optional(parsed?.mode.rawValue),
            "maxAge": parsed.map { .int($0.maxAge) } ?? .null,
            "mx": parsed.map { .strings($0.mx) } ?? .null,
            "errors": .strings(verdicts.strict.reason.map { [$0.description] } ?? []),
            "warnings": .strings(warnings),
        ])
    }

    /// Lints a local policy file as `check-policy` does (no HTTP facts: a `200 text/plain` answer).
    public static func lintPolicy(input: String, body: [UInt8]) -> JSONValue {
        lintPolicy(input: input, verdicts: evaluatePolicy(body: body))
    }

    /// The `policylist-observe check-txt` line for one TXT record (CONTRACT.md), key order fixed:
    /// `input, valid, id, errors`.
    ///
    /// `valid` is the strict verdict; `id` the strict id, else the lenient one, else `null`; `errors` the
    /// strict reason (empty when valid).
    public static func lintTXT(input: String, verdicts: TXTVerdicts) -> JSONValue {
        .object([
            "input": .string(input),
            "valid": .bool(verdicts.strict.isValid),
            "id": .optional(verdicts.strict.id ?? verdicts.lenient.id),
            "errors": .strings(verdicts.strict.reason.map { [$0.description] } ?? []),
        ])
    }

    /// Lints one command-line TXT record (an RRset of one RR with one string) as `check-txt` does.
    public static func lintTXT(record: String) -> JSONValue {
        lintTXT(input: record, verdicts: evaluateTXT(record: record))
    }
}
