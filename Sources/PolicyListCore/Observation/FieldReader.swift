/// Why one input record (a JSONL line, a CSV row) could not be read: the field's key path and the problem.
public struct RecordError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The key path of the offending field (`policy.httpStatus`, `scandata.mta_sts.status`), or `nil` when
    /// the whole record is at fault (a JSON syntax error).
    public let field: String?
    /// What was expected and what was found.
    public let problem: String

    /// Creates an error.
    public init(field: String?, _ problem: String) {
        self.field = field
        self.problem = problem
    }

    /// `policy.httpStatus: expected an integer, found a string`.
    public var description: String { field.map { "\($0): \(problem)" } ?? problem }

    /// The same error nested under `prefix` (`scandata` + `mta_sts.status` → `scandata.mta_sts.status`).
    func nested(under prefix: String) -> RecordError {
        RecordError(field: field.map { prefix + "." + $0 } ?? prefix, problem)
    }
}

/// Typed access to the members of one JSON object, with errors naming the key path.
struct ObjectReader {
    let members: [JSONMember]
    /// The object's own path (empty at the top level).
    let path: String

    init(_ value: JSONValue, path: String) throws(RecordError) {
        guard case .object(let members) = value else {
            throw RecordError(field: path.isEmpty ? nil : path, "expected an object, found \(value.typeDescription)")
        }
        self.members = members
        self.path = path
    }

    func key(_ name: String) -> String { path.isEmpty ? name : path + "." + name }

    /// The member's value; `nil` when absent. JSON `null` is returned as `.null`.
    func raw(_ name: String) -> JSONValue? {
        members.first { $0.key == name }?.value
    }

    func required(_ name: String) throws(RecordError) -> JSONValue {
        guard let value = raw(name) else { throw RecordError(field: key(name), "missing") }
        return value
    }

    func string(_ name: String) throws(RecordError) -> String {
        let value = try required(name)
        guard case .string(let text) = value else { throw mistyped(name, "a string", value) }
        return text
    }

    /// A string, or `nil` when the member is absent or `null`.
    func optionalString(_ name: String) throws(RecordError) -> String? {
        guard let value = raw(name), value != .null else { return nil }
        guard case .string(let text) = value else { throw mistyped(name, "a string or null", value) }
        return text
    }

    func int(_ name: String) throws(RecordError) -> Int {
        let value = try required(name)
        return try Self.integer(value, field: key(name))
    }

    /// An integer, or `nil` when the member is absent or `null`.
    func optionalInt(_ name: String) throws(RecordError) -> Int? {
        guard let value = raw(name), value != .null else { return nil }
        return try Self.integer(value, field: key(name))
    }

    func object(_ name: String) throws(RecordError) -> ObjectReader {
        try ObjectReader(required(name), path: key(name))
    }

    /// An object, or `nil` when the member is absent or `null`.
    func optionalObject(_ name: String) throws(RecordError) -> ObjectReader? {
        guard let value = raw(name), value != .null else { return nil }
        return try ObjectReader(value, path: key(name))
    }

    func array(_ name: String) throws(RecordError) -> [JSONValue] {
        let value = try required(name)
        guard case .array(let elements) = value else { throw mistyped(name, "an array", value) }
        return elements
    }

    /// An array of strings; `null` reads as empty (Go marshals a nil slice as `null`) when `nullIsEmpty`.
    func strings(_ name: String, nullIsEmpty: Bool = false) throws(RecordError) -> [String] {
        let value = try required(name)
        if value == .null && nullIsEmpty { return [] }
        guard case .array(let elements) = value else { throw mistyped(name, "an array of strings", value) }
        var out: [String] = []
        out.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            guard case .string(let text) = element else {
                throw RecordError(
                    field: "\(key(name))[\(index)]", "expected a string, found \(element.typeDescription)")
            }
            out.append(text)
        }
        return out
    }

    /// Keys present that are not in `known`, in document order.
    func unknownKeys(_ known: Set<String>) -> [String] {
        members.map(\.key).filter { !known.contains($0) }.map(key)
    }

    func mistyped(_ name: String, _ expected: String, _ value: JSONValue) -> RecordError {
        RecordError(field: key(name), "expected \(expected), found \(value.typeDescription)")
    }

    /// A JSON number that is a whole number fitting in `Int` (no fraction, no exponent).
    static func integer(_ value: JSONValue, field: String) throws(RecordError) -> Int {
        guard case .number(let literal) = value else {
            throw RecordError(field: field, "expected an integer, found \(value.typeDescription)")
        }
        guard let number = Int(literal) else {
            throw RecordError(field: field, "expected an integer, found \(literal)")
        }
        return number
    }
}

extension JSONDocument {
    /// Fails on the first duplicated key: a record that says two things about one field is ambiguous.
    func requireNoDuplicates(under prefix: String? = nil) throws(RecordError) {
        guard let duplicate = duplicates.first else { return }
        let path = [prefix, duplicate.path.isEmpty ? nil : duplicate.path].compactMap { $0 }.joined(separator: ".")
        throw RecordError(
            field: path.isEmpty ? duplicate.key : path + "." + duplicate.key,
            "duplicate key at byte \(duplicate.offset) (first at byte \(duplicate.firstOffset))")
    }
}

/// Reads one JSON document for a record reader, mapping syntax errors to a `RecordError`.
func readRecordJSON(_ bytes: [UInt8], field: String? = nil) throws(RecordError) -> JSONDocument {
    let document: JSONDocument
    do throws(JSONSyntaxError) {
        document = try StrictJSONReader.read(bytes)
    } catch {
        throw RecordError(field: field, "invalid JSON: \(error.description)")
    }
    try document.requireNoDuplicates(under: field)
    return document
}
