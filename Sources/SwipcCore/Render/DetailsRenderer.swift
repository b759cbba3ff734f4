/// Renders `swipc show`: a list of fields, then holders and semaphores, in a table or JSON.
public struct DetailsRenderer {
  public var formatter: CellFormatter
  public var context: ColumnContext

  public init(formatter: CellFormatter, context: ColumnContext) {
    self.formatter = formatter
    self.context = context
  }

  public func table(_ d: ObjectDetails, into out: inout OutputBuffer) {
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
  }

  public func json(_ d: ObjectDetails, into out: inout OutputBuffer) {
    var list = ObjectListRenderer(formatter: formatter, context: context, columns: nil)
    list.columns = nil
    list.writeJSONObject(d.object, into: &out)
    out.bytes.removeLast()  // reopen the object to add the details
    out.write(",\"qbytes\":")
    formatter.writeJSON(d.queueByteLimit.map { .bytes($0) } ?? .null, to: &out)
    if let state = context.orphans?.state(of: d.object) {
      out.write(",\"orphan\":")
      out.writeJSONString(state.word)
      out.write(",\"orphan_reason\":")
      formatter.writeJSON(state.reason.map { .text($0) } ?? .null, to: &out)
    }
    out.write(",\"commands\":{")
    for (i, pid) in d.commands.keys.sorted().enumerated() {
      if i > 0 { out.write(byte: 44) }
      out.write("\"\(pid)\":")
      out.writeJSONString(d.commands[pid]!)
    }
    out.write("},\"semaphores\":")
    if let semaphores = d.semaphores {
      out.writeSemaphoresJSON(semaphores, posix: false)
    } else {
      out.write("null")
    }
    out.write(",\"holder_processes\":")
    if let holders = d.holders {
      out.write(byte: 91)
      for (i, h) in holders.enumerated() {
        if i > 0 { out.write(byte: 44) }
        out.write("{\"pid\":\(h.pid),\"access\":\"\(h.access.rawValue)\",\"command\":")
        out.writeJSONString(h.command)
        out.write(byte: 125)
      }
      out.write(byte: 93)
    } else {
      out.write("null")
    }
    out.write(",\"notes\":")
    formatter.writeJSON(.list(d.notes), to: &out)
    out.write("}\n")
  }
}

extension OutputBuffer {
  /// `[{"semnum":0,"value":1,"ncount":0,"zcount":0,"pid":123}]`; POSIX semaphores have a value
  /// alone.
  public mutating func writeSemaphoresJSON(_ semaphores: [SemaphoreState], posix: Bool) {
    write(byte: 91)
    for (i, s) in semaphores.enumerated() {
      if i > 0 { write(byte: 44) }
      write("{\"semnum\":")
      write(int: Int64(s.index))
      write(",\"value\":")
      write(int: Int64(s.value))
      if !posix {
        write(",\"ncount\":")
        write(int: Int64(s.waitingForIncrease))
        write(",\"zcount\":")
        write(int: Int64(s.waitingForZero))
        write(",\"pid\":")
        write(int: Int64(s.lastPid))
      }
      write(byte: 125)
    }
    write(byte: 93)
  }
}
