/// One SQLite value: what a parameter binds and what a column holds.
public enum SQLValue: Sendable, Hashable {
    /// SQL `NULL`.
    case null
    /// A 64-bit signed integer (`INTEGER`).
    case int(Int64)
    /// An IEEE double (`REAL`).
    case double(Double)
    /// UTF-8 text (`TEXT`); may contain NUL characters.
    case text(String)
    /// Raw bytes (`BLOB`); may be empty and may contain NUL bytes.
    case blob([UInt8])

    /// Wraps any convertible Swift value.
    public init(_ value: some SQLValueConvertible) {
        self = value.sqlValue
    }

    /// The SQLite storage class name (`NULL`, `INTEGER`, `REAL`, `TEXT`, `BLOB`), for messages.
    public var typeName: String {
        switch self {
        case .null: "NULL"
        case .int: "INTEGER"
        case .double: "REAL"
        case .text: "TEXT"
        case .blob: "BLOB"
        }
    }
}

extension SQLValue: ExpressibleByNilLiteral {
    /// `nil` binds `NULL`.
    public init(nilLiteral: ()) { self = .null }
}

extension SQLValue: ExpressibleByIntegerLiteral {
    /// An integer literal binds `INTEGER`.
    public init(integerLiteral value: Int64) { self = .int(value) }
}

extension SQLValue: ExpressibleByFloatLiteral {
    /// A float literal binds `REAL`.
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension SQLValue: ExpressibleByStringLiteral {
    /// A string literal binds `TEXT`.
    public init(stringLiteral value: String) { self = .text(value) }
}

extension SQLValue: ExpressibleByBooleanLiteral {
    /// A boolean literal binds `INTEGER` 0 or 1.
    public init(booleanLiteral value: Bool) { self = .int(value ? 1 : 0) }
}

/// A Swift type that converts to and from one `SQLValue`.
public protocol SQLValueConvertible {
    /// The value to bind.
    var sqlValue: SQLValue { get }
    /// Converts a column value; `nil` when the value has another type (the caller reports the mismatch).
    init?(sqlValue: SQLValue)
}

extension SQLValue: SQLValueConvertible {
    /// Itself.
    public var sqlValue: SQLValue { self }
    /// Any value converts to itself.
    public init?(sqlValue: SQLValue) { self = sqlValue }
}

extension Int64: SQLValueConvertible {
    /// Binds `INTEGER`.
    public var sqlValue: SQLValue { .int(self) }
    /// Reads `INTEGER` only.
    public init?(sqlValue: SQLValue) {
        guard case .int(let value) = sqlValue else { return nil }
        self = value
    }
}

extension Int: SQLValueConvertible {
    /// Binds `INTEGER`.
    public var sqlValue: SQLValue { .int(Int64(self)) }
    /// Reads `INTEGER` that fits in `Int`.
    public init?(sqlValue: SQLValue) {
        guard case .int(let value) = sqlValue, let exact = Int(exactly: value) else { return nil }
        self = exact
    }
}

extension Double: SQLValueConvertible {
    /// Binds `REAL`.
    public var sqlValue: SQLValue { .double(self) }
    /// Reads `REAL`, or `INTEGER` widened to `Double`.
    public init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .double(let value): self = value
        case .int(let value): self = Double(value)
        default: return nil
        }
    }
}

extension Bool: SQLValueConvertible {
    /// Binds `INTEGER` 0 or 1.
    public var sqlValue: SQLValue { .int(self ? 1 : 0) }
    /// Reads `INTEGER` 0 or 1 only.
    public init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .int(0): self = false
        case .int(1): self = true
        default: return nil
        }
    }
}

extension String: SQLValueConvertible {
    /// Binds `TEXT`.
    public var sqlValue: SQLValue { .text(self) }
    /// Reads `TEXT` only.
    public init?(sqlValue: SQLValue) {
        guard case .text(let value) = sqlValue else { return nil }
        self = value
    }
}

extension Array: SQLValueConvertible where Element == UInt8 {
    /// Binds `BLOB`.
    public var sqlValue: SQLValue { .blob(self) }
    /// Reads `BLOB` only.
    public init?(sqlValue: SQLValue) {
        guard case .blob(let value) = sqlValue else { return nil }
        self = value
    }
}

extension Optional: SQLValueConvertible where Wrapped: SQLValueConvertible {
    /// `nil` binds `NULL`.
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
    /// `NULL` reads as `nil`; any other value must convert to `Wrapped`.
    public init?(sqlValue: SQLValue) {
        if case .null = sqlValue {
            self = .none
            return
        }
        guard let value = Wrapped(sqlValue: sqlValue) else { return nil }
        self = .some(value)
    }
}
