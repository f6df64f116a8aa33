extension Migration {
    /// What `policylist run` needs beyond the 0001 ledger: the resolved variables (resume identity), the
    /// holder's pid, where a run started and how it ended, and each stage's outcome and signal. Shipped: never
    /// edit.
    static let runner0007 = Migration(
        name: "0007-runner",
        sql: """
            -- The resolved pipeline variables as a JSON object with sorted keys.
            ALTER TABLE runs ADD COLUMN variables TEXT
                CHECK (variables IS NULL OR (json_valid(variables) AND json_type(variables) = 'object'));
            -- 1 when ${NOW} came from the clock (a resumed run reuses it), 0 when it came from --now.
            ALTER TABLE runs ADD COLUMN now_from_clock INTEGER CHECK (now_from_clock IN (0, 1));
            -- The path the pipeline file was given as (for people; the identity is pipeline_sha256).
            ALTER TABLE runs ADD COLUMN pipeline_path TEXT;
            -- The runner process that holds (or held) the run.
            ALTER TABLE runs ADD COLUMN holder_pid INTEGER CHECK (holder_pid > 0);
            -- The stage this run began with when it did not begin with the first one (--from or a resume).
            ALTER TABLE runs ADD COLUMN resumed_from TEXT CHECK (resumed_from <> '');
            -- The failed run this one continues, when it is an automatic resume.
            ALTER TABLE runs ADD COLUMN resumes_run TEXT REFERENCES runs (id);
            -- The runner's exit code once the run has ended.
            ALTER TABLE runs ADD COLUMN exit_code INTEGER CHECK (exit_code BETWEEN 0 AND 255);
            -- What happened to one stage; NULL while it runs.
            ALTER TABLE run_stages ADD COLUMN outcome TEXT
                CHECK (outcome IN ('ok', 'failed', 'signaled', 'interrupted', 'not-started', 'abandoned'));
            -- The signal that ended the stage's process, if one did.
            ALTER TABLE run_stages ADD COLUMN signal INTEGER CHECK (signal BETWEEN 1 AND 127);
            -- The runner's message about the stage ("exit 65 is not allowed", "spawn: ...").
            ALTER TABLE run_stages ADD COLUMN message TEXT;
            """)
}
