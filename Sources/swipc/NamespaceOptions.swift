import ArgumentParser
import Glibc
import SwipcCore

/// `-N/--namespace TARGET`: on every command that names or lists objects.
struct NamespaceOption: ParsableArguments {
  @Option(name: [.customShort("N"), .long], help: ArgumentHelp("Act in another IPC namespace: a pid, ipc:[INODE], a path to an ns/ipc file, or a container as 'swipc ls --namespaces' names it. Needs root.", valueName: "target"))
  var namespace: String?
}

/// `-A/--all-namespaces`: ls and clean over every IPC namespace of the host.
struct AllNamespacesOption: ParsableArguments {
  @Flag(name: [.customShort("A"), .long], help: "Every IPC namespace of the host (containers, pods), each object with its namespace, container and a pid. Needs root to enter other namespaces; without it, the others are skipped with one warning.")
  var allNamespaces = false
}

/// A command that takes -N.
protocol NamespaceSelecting {
  var namespaceOption: NamespaceOption { get }
}

extension Swipc.Ls: NamespaceSelecting {}
extension Swipc.Show: NamespaceSelecting {}
extension Swipc.Limits: NamespaceSelecting {}
extension Swipc.Rm: NamespaceSelecting {}
extension Swipc.Chmod: NamespaceSelecting {}
extension Swipc.Chown: NamespaceSelecting {}
extension Swipc.Clean: NamespaceSelecting {}
extension Swipc.Msg.Create: NamespaceSelecting {}
extension Swipc.Msg.Send: NamespaceSelecting {}
extension Swipc.Msg.Recv: NamespaceSelecting {}
extension Swipc.Shm.Create: NamespaceSelecting {}
extension Swipc.Shm.Write: NamespaceSelecting {}
extension Swipc.Shm.Dump: NamespaceSelecting {}
extension Swipc.Shm.Attach: NamespaceSelecting {}
extension Swipc.Sem.Create: NamespaceSelecting {}
extension Swipc.Sem.Init: NamespaceSelecting {}
extension Swipc.Sem.Get: NamespaceSelecting {}
extension Swipc.Sem.Wait: NamespaceSelecting {}
extension Swipc.Sem.Post: NamespaceSelecting {}
extension Swipc.Sem.Run: NamespaceSelecting {}

/// A request that may name a namespace with -N: the fast reader selects the view from it.
protocol NamespacedRequest {
  var namespace: String? { get }
}

extension ListRequest: NamespacedRequest {}
extension CleanRequest: NamespacedRequest {}
extension LimitsRequest: NamespacedRequest {}
extension RemoveRequest: NamespacedRequest {}
extension CreateRequest: NamespacedRequest {}

/// -N as the fast reader takes it.
enum QuickNamespace {
  static func option<R>(_ path: WritableKeyPath<R, String?>) -> QuickOption<R> {
    .value("--namespace", short: "N", path) { text -> String?? in .some(text) }
  }
}

/// The view every command works in: the caller's own namespace, or the one -N named, built once
/// when the command line has been read.
enum CommandView {
  nonisolated(unsafe) private static var selected: IPCView?

  static var current: IPCView { selected ?? .fromEnvironment() }

  /// Enters the namespace `command` names with -N, if any, before it runs.
  static func select(for command: ParsableCommand) throws {
    try select((command as? NamespaceSelecting)?.namespaceOption.namespace)
  }

  /// Enters the namespace `target` names, if any.
  static func select(_ target: String?) throws {
    guard let target, selected == nil else { return }
    selected = try NamespaceTarget.view(target, base: .fromEnvironment())
  }
}
