/// PolicyListCore: records, parsers, validation, reconcile rules and writers. No I/O, no clock.
public enum PolicyListCore {
    /// Version of the parsers and rules; stored next to every derived verdict.
    public static let parserVersion = 1
}
