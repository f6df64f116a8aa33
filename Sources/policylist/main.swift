import PolicyListCLI
import PolicyListCore
import PolicyListPipeline

await runMain("policylist") { args in
    switch args.first {
    case "run": return try RunCommand.main(Array(args.dropFirst()))
    case "status": return try StatusCommand.main(Array(args.dropFirst()))
    case "--help", "-h", "help":
        printOutput(policylistHelp)
        return .ok
    case nil: throw UsageError("a command is needed: run or status")
    case let other?: throw UsageError("unknown command '\(other)' (commands: run, status)")
    }
}
