import PolicyListCLI

await runMain("policylist-ingest") { _ in .ok }
