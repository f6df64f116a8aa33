// libFuzzer harness for the RFC 8461 parsers (policy body and TXT RRset), compiled with PolicyListCore's sources
// by fuzz/libfuzzer/run. The first byte picks the parser; the rest is the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMTASTS(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    if data[0] & 1 == 0 {
        let verdicts = MTASTS.evaluatePolicy(body: bytes)
        for verdict in [verdicts.strict, verdicts.lenient] where verdict.isValid == (verdict.parsed == nil) {
            fatalError("a policy verdict whose validity and content disagree")
        }
    } else {
        let rrset = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { rr in
            rr.split(separator: 0x09, omittingEmptySubsequences: false).map(Array.init)
        }
        let verdicts = MTASTS.evaluateTXT(rrset: rrset)
        for verdict in [verdicts.strict, verdicts.lenient] where !verdict.isValid && verdict.reason == nil {
            fatalError("an invalid TXT verdict without a reason")
        }
    }
    return 0
}
