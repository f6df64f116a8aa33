import PolicyListCLI
import PolicyListCore

await runMain("policylist-report") { _ in
    throw UsageError("not implemented yet")
}
