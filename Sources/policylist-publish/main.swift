import PolicyListCLI
import PolicyListCore

await runMain("policylist-publish") { _ in
    throw UsageError("not implemented yet")
}
