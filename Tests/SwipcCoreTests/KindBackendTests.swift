import Glibc
import Synchronization
import Testing
@testable import SwipcCore

/// A body handed to a thread, which the creating thread joins before it goes on.
final class Box: @unchecked Sendable {
  var run: () -> Void = {}
}

/// Counts the bodies it runs, and runs each on a thread of its own, as an executor for another
/// IPC namespace does (that one setns()es first); a body run inside another runs inline.
final class ThreadHoppingExecutor: NamespaceExecutor {
  let count = Atomic<Int>(0)
  let threads = Mutex<Set<UInt>>([])

  func perform<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
    count.add(1, ordering: .relaxed)
    if Self.inside { return try body() }
    return try withoutActuallyEscaping(body) { (escapable: @escaping () throws(E) -> T) throws(E) -> T in
      var result: Result<T, E>? = nil
      let box = Box()
      box.run = {
        Self.inside = true
        result = Result { () throws(E) -> T in try escapable() }
      }
      let context = Unmanaged.passRetained(box).toOpaque()
      var thread = pthread_t()
      precondition(pthread_create(&thread, nil, { raw in
        let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
        box.run()
        return nil
      }, context) == 0)
      pthread_join(thread, nil)
      threads.withLock { _ = $0.insert(UInt(thread)) }
      return try result!.get()
    }
  }

  nonisolated(unsafe) static var insideKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
  }()
  static var inside: Bool {
    get { pthread_getspecific(insideKey) != nil }
    set { pthread_setspecific(insideKey, newValue ? UnsafeRawPointer(bitPattern: 1) : nil) }
  }
}

@Suite("A backend per kind, and the view every backend is handed")
struct KindBackendTests {
  @Test("every kind has a backend of its own family; POSIX entries are the names glibc uses")
  func registry() {
    for kind in IPCKind.allCases {
      switch kind.backend {
      case .systemV(let b):
        #expect(kind.isSystemV)
        #expect(b.posixCounterpart.isPOSIX && b.posixCounterpart.posixBackend != nil)
        #expect(b.removeCall.hasSuffix("(IPC_RMID)") && b.setCall.hasSuffix("(IPC_SET)"))
      case .posix:
        #expect(kind.isPOSIX)
        #expect(kind.posixCounterpart == kind)
      }
    }
    let name = POSIXName(entry: "jobs")
    #expect(POSIXSemaphores.entry(name) == Array("sem.jobs".utf8))
    #expect(POSIXSharedMemory.entry(name) == Array("jobs".utf8))
    #expect(POSIXMessageQueues.entry(name) == Array("jobs".utf8))
    #expect(SystemVMessageQueues.getCall == "msgget" && SystemVSemaphores.getCall == "semget")
  }

  @Test("a POSIX kind named by key or made private is refused, never created as a System V set")
  func posixKindWithKey() throws {
    let view = IPCView.fixture(proc: "/nonexistent", sysctl: "/nonexistent", sysvipc: "/nonexistent", shm: "/nonexistent", mqueue: nil)
    for kind in IPCKind.posix {
      let byKey = Result { () throws(SwipcError) in try Creator.create(CreatePlan(kind: kind, target: .key(IPCKey(rawValue: 0x5171_7a01))), view: view) }
      guard case .failure(let e) = byKey else { Issue.record("\(kind) with a key was created"); continue }
      #expect(e.category == .usage)
      let private_ = Result { () throws(SwipcError) in try Creator.create(CreatePlan(kind: kind, target: nil), view: view) }
      guard case .failure(let p) = private_ else { Issue.record("\(kind) made private"); continue }
      #expect(p.category == .usage)
      let removed = Result { () throws(SwipcError) in try ObjectOperations.remove(kind: kind, target: .id(1), view: view) }
      guard case .failure(let r) = removed else { Issue.record("\(kind) removed by id"); continue }
      #expect(r.category == .usage)
    }
  }

  @Test("listing fixture text reads /proc/sysvipc through the view's executor, once per pass")
  func fixtureReadsThroughExecutor() {
    let dir = TemporaryDirectory()
    defer { _ = dir }
    dir.write("sysvipc/msg", "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n         0          1   600           0          0     0     0     0     0     0     0          0          0 1700000000\n")
    dir.write("shm/keep", "")
    let executor = ThreadHoppingExecutor()
    var view = IPCView.fixture(proc: dir.path + "/proc", sysctl: dir.path + "/sys", sysvipc: dir.path + "/sysvipc", shm: dir.path + "/shm", mqueue: nil)
    view.executor = executor
    let snapshot = Inventory(view: view).snapshot(kinds: [.msg, .pshm], scanHolders: false)
    #expect(snapshot.objects.map(\.kind) == [.msg, .pshm])
    #expect(executor.count.load(ordering: .relaxed) == 1, "one pass over System V, not one call per object")
  }

  @Test("create, change and remove a private queue through an executor that runs on another thread")
  func systemVThroughExecutor() throws {
    let executor = ThreadHoppingExecutor()
    var view = IPCView.fromEnvironment()
    view.executor = executor
    var request = CreatePlan(kind: .msg, target: nil)
    request.mode = FileMode(0o600)
    let created = try Creator.create(request, view: view)
    guard case .id(let id) = created else { Issue.record("no id"); return }
    var removed = false
    defer { if !removed { _ = msgctl(id, IPC_RMID, nil) } }
    #expect(executor.count.load(ordering: .relaxed) >= 1)
    let before = executor.count.load(ordering: .relaxed)
    try ObjectOperations.setPermissions(kind: .msg, target: .id(id), mode: FileMode(0o640), uid: nil, gid: nil, view: view)
    var ds = msqid_ds()
    #expect(msgctl(id, IPC_STAT, &ds) == 0 && ds.msg_perm.mode & 0o777 == 0o640)
    #expect(executor.count.load(ordering: .relaxed) > before)
    _ = try ObjectOperations.remove(kind: .msg, target: .id(id), view: view)
    removed = true
    #expect(msgctl(id, IPC_STAT, &ds) == -1)
    #expect(!executor.threads.withLock { $0.isEmpty }, "the calls ran on threads of the executor")
  }

  @Test("a directory of the view is opened once and stays the one opened; take() hands a descriptor over open")
  func directoriesAndDescriptors() throws {
    let dir = TemporaryDirectory()
    defer { _ = dir }
    dir.write("shm/a", "x")
    let shm = ObjectDirectory.path(dir.path + "/shm", live: false)
    guard case .success(let first) = shm.open(), case .success(let second) = shm.open() else {
      Issue.record("not opened"); return
    }
    #expect(first === second, "one descriptor per view")
    // Renaming the path does not move what the view sees.
    #expect(rename(dir.path + "/shm", dir.path + "/moved") == 0)
    guard case .success(let names) = first.entries() else { Issue.record("no entries"); return }
    #expect(names == [Array("a".utf8)])
    let opened = OwnedDescriptor.open(dir.path + "/moved", flags: O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard case .success(let fd) = consume opened else { Issue.record("not opened"); return }
    let raw = fd.take()
    #expect(fcntl(raw, F_GETFD) >= 0, "take() hands the descriptor over open")
    close(raw)
    let missing = ObjectDirectory.path(dir.path + "/shm", live: false)
    guard case .failure(.system("open", .noSuchFileOrDirectory)) = missing.open() else {
      Issue.record("a missing directory opened"); return
    }
  }
}
