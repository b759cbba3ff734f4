import Foundation
import Testing

/// `make fuzz` runs libFuzzer on the parsers; here every seed and every input that once broke
/// an invariant is replayed through the same code by the normal build of the fuzz driver.
@Suite("Fuzz seeds and regressions replay")
struct FuzzReplayTests {
  /// Built next to the swipc under test (a sanitizer build has its own).
  static let driver = URL(fileURLWithPath: Harness.swipc).deletingLastPathComponent().appendingPathComponent("swipc-fuzz").path

  @Test("seeds (and this machine's /proc text) and past crashes parse without a crash or a broken invariant",
    .enabled(if: FileManager.default.isExecutableFile(atPath: driver)))
  func replay() {
    let corpus = FileManager.default.temporaryDirectory.appendingPathComponent("swipc-fuzz-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: corpus) }
    let seed = Harness.run([Self.driver, "seed", Harness.packageRoot + "/Fuzz/seeds", corpus])
    #expect(seed.status == 0, "\(seed.stderr)")
    #expect(seed.stderr.isEmpty, "every seed file names a parser: \(seed.stderr)")
    let r = Harness.run([Self.driver, "run", corpus, Harness.packageRoot + "/Fuzz/regressions"])
    #expect(r.status == 0, "\(r.stderr)")
    let seeds = (try? FileManager.default.contentsOfDirectory(atPath: Harness.packageRoot + "/Fuzz/seeds").count) ?? 0
    let regressions = (try? FileManager.default.contentsOfDirectory(atPath: Harness.packageRoot + "/Fuzz/regressions").count) ?? 0
    #expect(seeds >= 30 && regressions >= 1)
    #expect(r.stdout.contains("inputs replayed"))
  }
}
