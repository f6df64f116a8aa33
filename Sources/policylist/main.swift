import PolicyListCLI
import PolicyListCore

await runMain("policylist") { _ in
    throw UsageError("not implemented yet")
}
