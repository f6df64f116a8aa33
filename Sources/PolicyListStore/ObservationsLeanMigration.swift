extension Migration {
    /// The lean observation store: the same `observations` columns (every reader's SQL keeps working), plus
    /// where the input line lives, and none of 0005's per-row `CHECK`s; raw input lines kept in segments.
    ///
    /// Why (docs/scaling.md, "Importing observations"): 0005 stored every input line as its own zlib blob
    /// under a 64-character hex primary key (a random insert into an index that outgrows the page cache, plus
    /// a foreign-key probe per row) and checked five `json_valid`s and four `IN` lists per row (each `IN` list
    /// of more than two constants builds an ephemeral index per statement execution). Now:
    ///
    /// * `observation_segments` holds the raw input lines of one import batch (a few thousand lines, under a
    ///   MiB) as one zlib stream: the lines of the batch's new rows concatenated exactly as read. A row points
    ///   at its line with (`line_segment`, `line_offset`, `line_length`); `line_sha256` still names the line's
    ///   bytes (it decides alreadyKnown against conflict, and a read checks it). Rows migrated from 0005 have
    ///   `line_segment` NULL: their line stays in `blobs` under `line_sha256`, as before.
    /// * The `CHECK`s move to the one writer, `Observations` (typed Swift values: enums for the statuses,
    ///   `JSONWriter` for the JSON columns); the identity `UNIQUE` and the latest-per-domain index stay.
    /// * Policy bodies stay in `blobs`, deduplicated by content as before.
    ///
    /// Existing rows are copied with their ids (the ids order the merge and the evidence).
    static let observationsLean0008 = Migration(
        name: "0008-observations-lean",
        sql: """
            CREATE TABLE observation_segments (
                id INTEGER PRIMARY KEY,
                -- Uncompressed size: the sum of the lengths of the lines it holds.
                size INTEGER NOT NULL CHECK (size >= 0),
                -- zlib (RFC 1950) stream of the lines, concatenated exactly as read (no separators).
                data BLOB NOT NULL
            ) STRICT;
            ALTER TABLE observations RENAME TO observations_0005;
            CREATE TABLE observations_lean (
                id INTEGER PRIMARY KEY,
                domain TEXT NOT NULL,
                observed_at TEXT NOT NULL,
                observed_at_ns INTEGER NOT NULL,
                source TEXT NOT NULL,
                kind TEXT NOT NULL,
                ref TEXT NOT NULL,
                scan_id INTEGER,
                line_sha256 TEXT NOT NULL,
                -- The input line: bytes [line_offset, line_offset + line_length) of the segment; NULL for rows
                -- from 0005, whose line is the blob line_sha256.
                line_segment INTEGER REFERENCES observation_segments (id),
                line_offset INTEGER,
                line_length INTEGER,
                txt_status TEXT,
                txt_records TEXT,
                txt_error TEXT,
                policy_status TEXT,
                http_status INTEGER,
                content_type TEXT,
                location TEXT,
                policy_sha256 TEXT REFERENCES blobs (sha256),
                policy_error TEXT,
                tlsrpt TEXT,
                tlsa TEXT,
                backend_status INTEGER,
                backend_checks TEXT,
                parser_version INTEGER NOT NULL,
                valid INTEGER NOT NULL,
                strict_valid INTEGER,
                txt_valid INTEGER,
                txt_strict_valid INTEGER,
                txt_id TEXT,
                policy_valid INTEGER,
                policy_strict_valid INTEGER,
                mode TEXT,
                max_age INTEGER,
                mx TEXT NOT NULL,
                list_mxs TEXT NOT NULL,
                reason TEXT,
                strict_reason TEXT,
                warnings TEXT NOT NULL,
                UNIQUE (domain, observed_at_ns, source)
            ) STRICT;
            INSERT INTO observations_lean (
                id, domain, observed_at, observed_at_ns, source, kind, ref, scan_id, line_sha256, txt_status,
                txt_records, txt_error, policy_status, http_status, content_type, location, policy_sha256,
                policy_error, tlsrpt, tlsa, backend_status, backend_checks, parser_version, valid, strict_valid,
                txt_valid, txt_strict_valid, txt_id, policy_valid, policy_strict_valid, mode, max_age, mx, list_mxs,
                reason, strict_reason, warnings)
            SELECT
                id, domain, observed_at, observed_at_ns, source, kind, ref, scan_id, line_sha256, txt_status,
                txt_records, txt_error, policy_status, http_status, content_type, location, policy_sha256,
                policy_error, tlsrpt, tlsa, backend_status, backend_checks, parser_version, valid, strict_valid,
                txt_valid, txt_strict_valid, txt_id, policy_valid, policy_strict_valid, mode, max_age, mx, list_mxs,
                reason, strict_reason, warnings
            FROM observations_0005 ORDER BY id;
            DROP TABLE observations_0005;
            ALTER TABLE observations_lean RENAME TO observations;
            -- Latest per domain as of T, with the tie rule of Reconciler.latestObservations (as in 0005).
            CREATE INDEX observations_latest ON observations (domain, observed_at_ns, valid, ref);
            """)
}
