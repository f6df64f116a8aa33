extension Migration {
    /// The backend's `aggregated_scans` statistics; first write wins per (time, source). Shipped: never edit.
    static let aggregatedScans0006 = Migration(
        name: "0006-aggregated-scans",
        sql: """
            CREATE TABLE aggregated_scans (
                time_ns INTEGER NOT NULL,
                time TEXT NOT NULL
                    CHECK (time GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z'),
                source TEXT NOT NULL CHECK (source <> ''),
                attempted INTEGER NOT NULL CHECK (attempted >= 0),
                with_mxs INTEGER NOT NULL CHECK (with_mxs >= 0),
                mta_sts_testing INTEGER NOT NULL CHECK (mta_sts_testing >= 0),
                mta_sts_enforce INTEGER NOT NULL CHECK (mta_sts_enforce >= 0),
                schema TEXT NOT NULL CHECK (schema IN ('csv', 'aggregated-scan', 'domain-totals')),
                backend_id INTEGER,
                ref TEXT NOT NULL CHECK (ref <> ''),
                line_sha256 TEXT NOT NULL REFERENCES blobs (sha256),
                PRIMARY KEY (time_ns, source)
            ) STRICT;
            """)
}
