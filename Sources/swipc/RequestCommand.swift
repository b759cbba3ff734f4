import ArgumentParser
import SwipcCore

/// A command whose options fill a core request (docs/DESIGN.md, "Requests"). argument-parser's
/// `run()` and the fast reader (`QuickPath`) both end in `run(_:)`: the request is validated once,
/// by its own `validate()`, and the checked plan is performed.
protocol RequestCommand: ParsableCommand {
  associatedtype Request: CommandRequest
  /// The request as argument-parser read it.
  var request: Request { get }
  /// Does the command's work on a validated request.
  static func perform(_ plan: Request.Plan, _ request: Request) throws
}

extension RequestCommand {
  func run() throws { try Self.run(request) }

  static func run(_ request: Request) throws {
    try perform(try request.validate(), request)
  }
}
