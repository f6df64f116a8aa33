/// Operator request files: `removals.json` and `edits.json`, each `{"schemaVersion": 1, …}`.
public enum RequestFile {
    /// What a request file held.
    public struct Parsed: Sendable {
        /// Removal requests.
        public var removals: [RemovalRequest] = []
        /// Edits.
        public var edits: [EditRequest] = []
        /// Items rejected (the rest of the file is used).
        public var rejected: [InputProblem] = []
    }

    /// Why a whole request file was refused.
    public struct FileError: Error, Sendable, CustomStringConvertible {
        /// What is wrong.
        public let reason: String
        /// The reason.
        public var description: String { reason }
    }

    /// Parses a request file; `source` names it in evidence refs (`removals.json#3`).
    public static func parse(_ bytes: [UInt8], source: String) -> Result<Parsed, FileError> {
        let document: JSONDocument
        do {
            document = try StrictJSONReader.read(bytes)
        } catch {
            return .failure(FileError(reason: error.description))
        }
        if let duplicate = document.duplicates.first {
            return .failure(FileError(reason: "byte \(duplicate.offset): duplicate key \"\(duplicate.key)\""))
        }
        guard case .object = document.value else {
            return .failure(FileError(reason: "expected an object with schemaVersion"))
        }
        guard let version = document.value["schemaVersion"] else {
            return .failure(FileError(reason: "no \"schemaVersion\"; expected 1"))
        }
        guard version == .number("1") else {
            return .failure(
                FileError(reason: "schemaVersion \(JSONWriter.compact(version)) is not supported; expected 1"))
        }
        var parsed = Parsed()
        var known = false
        if let removals = document.value["removals"] {
            known = true
            guard let items = removals.arrayValue else {
                return .failure(FileError(reason: "\"removals\" is \(removals.typeDescription); expected an array"))
            }
            for (index, item) in items.enumerated() {
                let location = "removals[\(index)]"
                switch (domainField(item), instantField(item, "requestedAt")) {
                case (.success(let domain), .success(let at)):
                    parsed.removals.append(
                        RemovalRequest(
                            ref: "\(source)#\(index + 1)", domain: domain, requestedAt: at,
                            reason: item["reason"]?.stringValue ?? ""))
                case (.failure(let error), _), (_, .failure(let error)):
                    parsed.rejected.append(InputProblem(location: location, reason: error.reason))
                }
            }
        }
        if let edits = document.value["edits"] {
            known = true
            guard let items = edits.arrayValue else {
                return .failure(FileError(reason: "\"edits\" is \(edits.typeDescription); expected an array"))
            }
            for (index, item) in items.enumerated() {
                let location = "edits[\(index)]"
                switch (domainField(item), instantField(item, "at"), editBody(item)) {
                case (.success(let domain), .success(let at), .success(let body)):
                    parsed.edits.append(
                        EditRequest(
                            ref: "\(source)#\(index + 1)", domain: domain, mxs: body.0, mode: body.1, at: at,
                            reason: item["reason"]?.stringValue ?? ""))
                case (.failure(let error), _, _), (_, .failure(let error), _), (_, _, .failure(let error)):
                    parsed.rejected.append(InputProblem(location: location, reason: error.reason))
                }
            }
        }
        guard known else { return .failure(FileError(reason: "expected \"removals\" or \"edits\"")) }
        return .success(parsed)
    }

    static func domainField(_ item: JSONValue) -> Result<String, FileError> {
        guard let text = item["domain"]?.stringValue else {
            return .failure(FileError(reason: "\"domain\" missing or not a string"))
        }
        let domain = HostSyntax.lowercased(text)
        guard HostSyntax.isSchemaName(domain) else {
            return .failure(FileError(reason: "domain \(JSONWriter.compact(.string(text))) is not a valid domain name"))
        }
        return .success(domain)
    }

    static func instantField(_ item: JSONValue, _ name: String) -> Result<Instant, FileError> {
        guard let text = item[name]?.stringValue else {
            return .failure(FileError(reason: "\"\(name)\" missing or not a string"))
        }
        switch TimestampParser.parseInstant(text) {
        case .success(let instant): return .success(instant)
        case .failure(let error): return .failure(FileError(reason: "\(name) \(error.reason)"))
        }
    }

    static func editBody(_ item: JSONValue) -> Result<([String]?, ListMode?), FileError> {
        var mxs: [String]?
        var mode: ListMode?
        if let value = item["mxs"] {
            guard let array = value.arrayValue, !array.isEmpty else {
                return .failure(FileError(reason: "\"mxs\" must be a non-empty array of strings"))
            }
            var out: [String] = []
            for element in array {
                guard let text = element.stringValue, HostSyntax.isSchemaName(text, allowLeadingDot: true) else {
                    return .failure(
                        FileError(reason: "MX pattern \(JSONWriter.compact(element)) is not a valid host name pattern"))
                }
                guard !out.contains(text) else { return .failure(FileError(reason: "MX pattern \"\(text)\" repeated")) }
                out.append(text)
            }
            mxs = out
        }
        if let value = item["mode"] {
            guard let text = value.stringValue, let parsed = ListMode(rawValue: text) else {
                return .failure(
                    FileError(reason: "mode \(JSONWriter.compact(value)); expected \"testing\" or \"enforce\""))
            }
            mode = parsed
        }
        guard mxs != nil || mode != nil else { return .failure(FileError(reason: "an edit needs \"mxs\" or \"mode\"")) }
        return .success((mxs, mode))
    }
}
