import ArgumentParser
import Glibc
import SwipcBench
import SwipcCore

extension BenchMechanism: ExpressibleByArgument {}
extension BenchPinning: ExpressibleByArgument {}

extension Swipc {
  struct Bench: RequestCommand {
    static let configuration = CommandConfiguration(
      commandName: "bench",
      abstract: "Measure every IPC mechanism on this machine: round-trip latency and throughput.",
      discussion: """
        MECHANISM: \(BenchMechanism.allCases.map(\.rawValue).joined(separator: ", ")) (default: \
        all). Two processes, the peer being swipc itself: a ping-pong of --messages round trips \
        gives latency p50 and p99, then --messages one-way messages give MB/s and messages/s. \
        shm, pshm, shm-spin and shm-futex move messages through rings of --slots slots. \
        A size above a mechanism's limit shows as n/a. Every object it makes is removed, also \
        when it is interrupted or killed.
        """)

    @Argument(help: ArgumentHelp("Mechanisms to measure (default: all).", valueName: "mechanism"))
    var mechanisms: [BenchMechanism] = []

    @Option(help: ArgumentHelp("Message sizes, comma-separated, up to 16M (default 64,4K,64K).", valueName: "list"))
    var sizes: String = "64,4K,64K"

    @Option(help: ArgumentHelp("Round trips, and one-way messages, per cell (default 20000, fewer above 8K: as many as move 256M).", valueName: "n"))
    var messages: Int?

    @Option(help: ArgumentHelp("Ring slots each way for shm, pshm, shm-spin and shm-futex (default: 64K worth, 2 to 1024; 1 is a one-slot hand-off).", valueName: "n"))
    var slots: Int?

    @Option(help: ArgumentHelp("Aim for this long per cell (e.g. 1s) instead of a fixed --messages.", valueName: "duration"), transform: parsed(TimeSpan.init(parsing:)))
    var duration: TimeSpan?

    @Option(help: "CPU placement: cross (default with two usable CPUs), same or none.")
    var pin: BenchPinning?

    @OptionGroup var format: FormatOption<BenchRenderer>

    @Flag(help: "Do not print the heading lines.")
    var noHeadings = false

    var request: BenchRequest {
      var request = BenchRequest()
      (request.mechanisms, request.sizes, request.messages, request.slots) = (mechanisms, sizes, messages, slots)
      (request.duration, request.pin, request.format, request.headings) = (duration, pin, format.format, !noHeadings)
      return request
    }

    static func perform(_ plan: BenchRequest.Plan, _ request: BenchRequest) throws {
      let (sizeList, list, messages, duration) = (plan.sizes, plan.mechanisms, request.messages, request.duration)
      var runner = BenchRunner(pings: 1, messages: 1, pinning: request.pin, slots: request.slots)
      let progress = isatty(2) == 1
      var results: [BenchResult] = []
      let outcome = Result { () throws(SwipcError) in
        for size in sizeList {
          for mechanism in list {
            if progress { Terminal.progress("bench: \(mechanism.rawValue), \(size) bytes ...") }
            let count = messages ?? BenchRunner.defaultMessages(size: size)
            runner.pings = count
            runner.messages = count
            if let duration {
              // A short cell first, to size the real one to the duration.
              runner.pings = 500
              runner.messages = 500
              let probe = try runner.run(mechanism, size: size)
              if probe.skipped == nil {
                let half = Double(duration.milliseconds) / 2000
                runner.pings = Int(min(max(half / (Double(max(probe.p50, 1)) / 1e9), 100), 5_000_000))
                runner.messages = Int(min(max(half * probe.messagesPerSecond, 100), 50_000_000))
              }
            }
            results.append(try runner.run(mechanism, size: size))
          }
        }
      }
      if progress { Terminal.progress(nil) }
      if case .failure(let error) = outcome {
        if error.category == .interrupted {
          Terminal.warn("bench interrupted; every object it made was removed")
          throw exitInterrupted()
        }
        throw error
      }
      let formatter = CellFormatter(options: RenderOptions(headings: request.headings), users: UserDirectory())
      try Terminal.write(try BenchRenderer(results, sizes: sizeList).render(as: request.format, formatter: formatter))
    }
  }

  /// The peer of `swipc bench`, re-executed by it; not for people.
  struct BenchPeerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench-peer", shouldDisplay: false)

    @Argument(parsing: .captureForPassthrough) var arguments: [String] = []

    func run() throws {
      // Stopped by swipc bench (SIGTERM) or by its death: nothing to say.
      let result = Result { () throws(SwipcError) in try BenchPeer.run(arguments) }
      if case .failure(let error) = result, error.category == .interrupted { throw ExitCode(130) }
      // Reported through the parent, which prints the one line.
      if case .failure = result, BenchPeer.reported { throw ExitCode(1) }
      try result.get()
    }
  }
}
