// libFuzzer harness for StrictJSONReader and ListReader, compiled into one module with PolicyListCore's sources
// by fuzz/libfuzzer/run (SwiftPM cannot add -sanitize=fuzzer to one product). Crashes and ASan reports fail.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONReader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let document = try? StrictJSONReader.read(bytes) {
        let again = Array(JSONWriter.compact(document.value).utf8)
        guard let reread = try? StrictJSONReader.read(again), reread.value == document.value else {
            fatalError("JSON round trip changed the value")
        }
    }
    let reading = ListReader.read(bytes)
    if reading.list == nil && reading.rejection?.detail.isEmpty != false { fatalError("rejection without a message") }
    return 0
}
