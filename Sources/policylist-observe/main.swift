import PolicyListCLI
import PolicyListCore

await runMain("policylist-observe") { _ in
    throw UsageError("not implemented yet")
}
