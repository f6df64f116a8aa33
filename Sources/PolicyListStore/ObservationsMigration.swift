extension Migration {
    /// MTA-STS observations: raw facts, evidence, and verdicts tagged with the parser version. Shipped: never edit.
    static let observations0005 = Migration(
        name: "0005-observations",
        sql: """
            CREATE TABLE observations (
                id INTEGER PRIMARY KEY,
                domain TEXT NOT NULL CHECK (domain <> '' AND domain = lower(domain)),
                -- RFC 3339 UTC as written (minimal fraction); observed_at_ns orders and compares.
                observed_at TEXT NOT NULL
                    CHECK (observed_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z'),
                observed_at_ns INTEGER NOT NULL,
                source TEXT NOT NULL CHECK (source <> ''),
                kind TEXT NOT NULL CHECK (kind IN ('native', 'backend-scan')),
                -- Evidence: FILE:LINE, plus " (scan ID)" for backend scans.
                ref TEXT NOT NULL CHECK (ref <> ''),
                scan_id INTEGER,
                -- The input line exactly as read.
                line_sha256 TEXT NOT NULL REFERENCES blobs (sha256),
                -- Raw facts of a native observation (NULL for backend scans, which keep no raw TXT).
                txt_status TEXT CHECK (txt_status IN ('ok', 'nxdomain', 'nodata', 'servfail', 'timeout', 'error')),
                txt_records TEXT CHECK (txt_records IS NULL OR (json_valid(txt_records) AND json_type(txt_records) = 'array')),
                txt_error TEXT,
                policy_status TEXT CHECK (policy_status IN (
                    'ok', 'http-status', 'content-type', 'redirect', 'too-large', 'tls-error', 'timeout', 'error')),
                http_status INTEGER CHECK (http_status BETWEEN 100 AND 999),
                content_type TEXT,
                location TEXT,
                -- The policy body (native) or the checker's policy text (backend), when there is one.
                policy_sha256 TEXT REFERENCES blobs (sha256),
                policy_error TEXT,
                tlsrpt TEXT CHECK (tlsrpt IS NULL OR json_valid(tlsrpt)),
                tlsa TEXT CHECK (tlsa IS NULL OR json_valid(tlsa)),
                -- Facts of a backend scan: mta_sts.status (NULL when mta_sts was null) and the checks.
                backend_status INTEGER CHECK (backend_status BETWEEN 0 AND 3),
                backend_checks TEXT CHECK (backend_checks IS NULL OR (json_valid(backend_checks) AND json_type(backend_checks) = 'array')),
                -- The verdict, derived from the facts above by parser_version.
                parser_version INTEGER NOT NULL CHECK (parser_version >= 1),
                valid INTEGER NOT NULL CHECK (valid IN (0, 1)),
                strict_valid INTEGER CHECK (strict_valid IN (0, 1)),
                txt_valid INTEGER CHECK (txt_valid IN (0, 1)),
                txt_strict_valid INTEGER CHECK (txt_strict_valid IN (0, 1)),
                txt_id TEXT,
                policy_valid INTEGER CHECK (policy_valid IN (0, 1)),
                policy_strict_valid INTEGER CHECK (policy_strict_valid IN (0, 1)),
                mode TEXT,
                max_age INTEGER CHECK (max_age >= 0),
                mx TEXT NOT NULL CHECK (json_valid(mx) AND json_type(mx) = 'array'),
                list_mxs TEXT NOT NULL CHECK (json_valid(list_mxs) AND json_type(list_mxs) = 'array'),
                reason TEXT,
                strict_reason TEXT,
                warnings TEXT NOT NULL CHECK (json_valid(warnings) AND json_type(warnings) = 'array'),
                CHECK ((valid = 1) = (reason IS NULL)),
                CHECK ((kind = 'backend-scan') = (scan_id IS NOT NULL)),
                CHECK (kind = 'backend-scan' OR (txt_status IS NOT NULL AND policy_status IS NOT NULL)),
                UNIQUE (domain, observed_at_ns, source)
            ) STRICT;
            -- Latest per domain as of T, with the tie rule of Reconciler.latestObservations.
            CREATE INDEX observations_latest ON observations (domain, observed_at_ns, valid, ref);
            """)
}
