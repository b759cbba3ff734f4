/// `swipc show`: a list of fields, then holders and semaphores, in a table; one JSON object.
public struct DetailsRenderer: Rendering {
  public static let formats: [OutputFormat] = [.table, .json]
  public static var jsonLayout: JSONOutput.Layout { .object }

  public var details: ObjectDetails
  public var context: ColumnContext

  public init(_ details: ObjectDetails, context: ColumnContext) {
    self.details = details
    self.context = context
  }

  public func customTable(formatter: CellFormatter) -> OutputBuffer? {
    let d = details
    var out = OutputBuffer()
    let o = d.object
    out.write("\(o.kind.title.dropLast()) \(o.name.map { TextEscape.escaped(bytes: $0.bytes) } ?? String(o.id ?? 0))\n")
    var fields = TableWriter(headers: ["FIELD", "VALUE"], rightAligned: [false, false])
    for column in ObjectColumn.applicable(to: o.kind) where column.name != "TYPE" {
      if column.name == "NAME", let name = o.name {
        fields.add(["name:"])
        fields.cells.bytes.append(contentsOf: name.bytes)
        fields.endCell()
        continue
      }
      var text = formatter.tableText(column.value(of: o, context: context))
      switch column.name {
      case "PERMS": text = TextFormat.octalPermissions(o.permissions) + " (" + TextFormat.symbolicPermissions(o.permissions) + ")"
      case "CTIME", "SEND", "RECV", "ATTACH", "DETACH", "OTIME", "MTIME", "LAST":
        if case .time(let t) = column.value(of: o, context: context) { text = t.map(TextFormat.fullTime) ?? "never" }
      case "LSPID", "LRPID", "CPID", "LPID":
        if case .int(let pid) = column.value(of: o, context: context), pid > 0 {
          text += d.commands[Int32(pid)].map { " (\($0))" } ?? " (exited)"
        }
      default: break
      }
      fields.add([column.name.lowercased() + ":", text])
    }
    if let limit = d.queueByteLimit {
      fields.add(["qbytes:", formatter.tableText(.bytes(limit))])
    }
    if let state = context.orphans?.state(of: o) {
      fields.add(["orphan:", state.word + (state.reason.map { " (\($0))" } ?? "")])
    }
    fields.write(to: &out, headings: false)
    if let semaphores = d.semaphores {
      out.write("\nsemaphores:\n")
      var t = TableWriter(headers: ["SEMNUM", "VALUE", "NCOUNT", "ZCOUNT", "PID", "COMMAND"],
        rightAligned: [true, true, true, true, true, false])
      for s in semaphores {
        t.add([String(s.index), String(s.value), String(s.waitingForIncrease), String(s.waitingForZero),
          String(s.lastPid), s.lastPid > 0 ? d.commands[s.lastPid] ?? "(exited)" : "-"])
      }
      t.write(to: &out, headings: formatter.options.headings)
    }
    if let holders = d.holders {
      out.write(o.kind == .shm ? "\nattached processes:\n" : "\nprocesses holding it:\n")
      if holders.isEmpty {
        out.write("  none\n")
      } else {
        var t = TableWriter(headers: ["PID", "ACCESS", "COMMAND"], rightAligned: [true, false, false])
        for h in holders { t.add([String(h.pid), h.access.rawValue, h.command]) }
        t.write(to: &out, headings: formatter.options.headings)
      }
    }
    for note in d.notes { out.write("note: \(TextEscape.escaped(note))\n") }
    return out
  }

  static let extraColumns = [
    OutputColumn("QBYTES"), OutputColumn("COMMANDS"), OutputColumn("SEMAPHORES"), OutputColumn("HOLDER_PROCESSES"),
    OutputColumn("NOTES"),
  ]
  static let orphanColumns = [OutputColumn("ORPHAN"), OutputColumn("ORPHAN_REASON")]

  /// One record: every column of its kind (as `ls --format json` writes it), then the details.
  public func write(to writer: inout some RecordWriter) {
    let o = details.object
    let columns = ObjectColumn.applicable(to: o.kind)
    let orphan = context.orphans?.state(of: o)
    writer.begin(
      columns.map(\.output) + Self.extraColumns.prefix(1) + (orphan == nil ? [] : Self.orphanColumns) + Self.extraColumns.dropFirst(),
      title: nil)
    for column in columns { writer.cell(column.value(of: o, context: context)) }
    writer.cell(details.queueByteLimit.map { .bytes($0) } ?? .null)
    if let orphan {
      writer.cell(.text(orphan.word))
      writer.cell(orphan.reason.map { .text($0) } ?? .null)
    }
    writer.cell(.fields(details.commands.keys.sorted().map { .init(String($0), .text(details.commands[$0]!)) }))
    writer.cell(details.semaphores.map { .semaphores($0, posix: false) } ?? .null)
    writer.cell(details.holders.map { holders in
      .array(holders.map { .fields([.init("pid", .int(Int64($0.pid))), .init("access", .text($0.access.rawValue)), .init("command", .text($0.command))]) })
    } ?? .null)
    writer.cell(.list(details.notes))
  }
}

extension CellValue {
  /// `[{"semnum":0,"value":1,"ncount":0,"zcount":0,"pid":123}]` in JSON; POSIX semaphores have a
  /// value alone.
  public static func semaphores(_ states: [SemaphoreState], posix: Bool) -> CellValue {
    .array(states.map { s in
      var fields: [Field] = [.init("semnum", .int(Int64(s.index))), .init("value", .int(Int64(s.value)))]
      if !posix {
        fields += [.init("ncount", .int(Int64(s.waitingForIncrease))), .init("zcount", .int(Int64(s.waitingForZero))),
          .init("pid", .int(Int64(s.lastPid)))]
      }
      return .fields(fields)
    })
  }
}

/// `sem get --format json`: the semaphore, by name or id, and its semaphores' states.
public struct SemaphoreValuesRenderer: Rendering {
  public static let formats: [OutputFormat] = [.json]
  public static var jsonLayout: JSONOutput.Layout { .object }

  public var name: POSIXName?
  public var id: Int32?
  public var states: [SemaphoreState]

  public init(name: POSIXName?, id: Int32?, states: [SemaphoreState]) {
    self.name = name
    self.id = id
    self.states = states
  }

  public func write(to writer: inout some RecordWriter) {
    if let name {
      writer.begin([OutputColumn("TYPE"), OutputColumn("NAME"), OutputColumn("SEMAPHORES")], title: nil)
      writer.cell(.text(IPCKind.psem.rawValue))
      writer.cell(.name(name))
    } else {
      writer.begin([OutputColumn("TYPE"), OutputColumn("ID"), OutputColumn("SEMAPHORES")], title: nil)
      writer.cell(.text(IPCKind.sem.rawValue))
      writer.cell(id.map { .int(Int64($0)) } ?? .null)
    }
    writer.cell(.semaphores(states, posix: name != nil))
  }
}
