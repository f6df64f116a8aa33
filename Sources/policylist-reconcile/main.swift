import PolicyListCLI
import PolicyListCore

await runMain("policylist-reconcile") { _ in
    throw UsageError("not implemented yet")
}
