import Testing

@testable import SwipcCore

@Suite("Escaped text in /proc/self/mounts and systemd unit names")
struct EscapedTextTests {
  @Test("octal and \\x escapes decode; anything else stays as written")
  func decode() {
    #expect(IPCView.unescapeMountPath("/mnt/a\\040b") == "/mnt/a b")
    #expect(IPCView.unescapeMountPath("/a\\134b") == "/a\\b")
    // Not three octal digits, or more than a byte: kept, never read as a sign or wrapped.
    #expect(IPCView.unescapeMountPath("/a\\+12") == "/a\\+12")
    #expect(IPCView.unescapeMountPath("/a\\777") == "/a\\777")
    #expect(IPCView.unescapeMountPath("/a\\04") == "/a\\04")
    #expect(ContainerIdentity.unescapeUnit("web\\x2dapp") == "web-app")
    #expect(ContainerIdentity.unescapeUnit("a\\x+1b") == "a\\x+1b")
    #expect(ContainerIdentity.unescapeUnit("a\\x2") == "a\\x2")
    #expect(ContainerIdentity.unescapeUnit("a\\040") == "a\\040")
  }
}
