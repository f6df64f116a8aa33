import PolicyListCLI
import PolicyListCore

await runMain("policylist-ingest") { _ in .ok }
