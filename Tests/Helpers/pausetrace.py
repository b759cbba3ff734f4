#!/usr/bin/env python3
"""Runs a command under ptrace and pauses it at a known point to act on the files it uses.

    pausetrace.py NAME [--then fstat] -- ACTION -- COMMAND...

COMMAND is stopped at the exit of the first system call whose path argument ends in the
component NAME (open, openat, stat, lstat, newfstatat, statx, fchmodat, fchownat, ...), or with
`--then fstat`, at the exit of the first fstat of a descriptor after that one. While it is stopped,
ACTION (a shell command) runs; then COMMAND goes on. This makes a race between a check and a use
deterministic: ACTION is the other user's swap, done exactly between the two. Exits with
COMMAND's status (128 + signal when a signal ended it); prints `pausetrace: acted` on stderr when
ACTION ran, `pausetrace: never reached` when COMMAND never touched NAME.

x86_64 only (the register layout of struct user_regs_struct).
"""
import ctypes
import os
import signal
import subprocess
import sys

PTRACE_TRACEME, PTRACE_GETREGS, PTRACE_SETOPTIONS, PTRACE_SYSCALL = 0, 12, 0x4200, 24
PTRACE_O_TRACESYSGOOD, PTRACE_O_EXITKILL = 1, 0x100000

# syscall number -> index of its path argument among (rdi, rsi, rdx)
PATH_ARG = {2: 0, 4: 0, 6: 0, 21: 0, 90: 0, 92: 0, 94: 0, 257: 1, 262: 1, 268: 1, 260: 1, 332: 1, 437: 1, 439: 1}
FSTAT, NEWFSTATAT, STATX = 5, 262, 332

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]


class Regs(ctypes.Structure):
    _fields_ = [(n, ctypes.c_ulonglong) for n in (
        "r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs eflags rsp ss "
        "fs_base gs_base ds es fs gs").split()]


def read_string(pid, address):
    out = b""
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        while len(out) < 4096:
            try:
                mem.seek(address + len(out))
                chunk = mem.read(1)
            except OSError:
                break
            if not chunk or chunk == b"\0":
                break
            out += chunk
    return out


def main():
    argv = sys.argv[1:]
    name = os.fsencode(argv.pop(0))
    then_fstat = False
    if argv[0] == "--then":
        argv.pop(0)
        then_fstat = argv.pop(0) == "fstat"
    assert argv.pop(0) == "--"
    split = argv.index("--")
    action, command = " ".join(argv[:split]), argv[split + 1:]

    pid = os.fork()
    if pid == 0:
        libc.ptrace(PTRACE_TRACEME, 0, None, None)
        os.kill(os.getpid(), signal.SIGSTOP)
        os.execvp(command[0], command)
    os.waitpid(pid, 0)
    libc.ptrace(PTRACE_SETOPTIONS, pid, None, ctypes.c_void_p(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL))
    in_syscall, matched, acted = False, False, False
    deliver = 0
    while True:
        libc.ptrace(PTRACE_SYSCALL, pid, None, ctypes.c_void_p(deliver))
        deliver = 0
        _, status = os.waitpid(pid, 0)
        if os.WIFEXITED(status):
            code = os.WEXITSTATUS(status)
            break
        if os.WIFSIGNALED(status):
            code = 128 + os.WTERMSIG(status)
            break
        sig = os.WSTOPSIG(status)
        if sig != (signal.SIGTRAP | 0x80):
            # The SIGTRAP after execve is ptrace's own; any other signal goes to COMMAND.
            deliver = 0 if sig == signal.SIGTRAP else sig
            continue
        in_syscall = not in_syscall
        if in_syscall or acted:
            continue
        regs = Regs()
        libc.ptrace(PTRACE_GETREGS, pid, None, ctypes.byref(regs))
        number = regs.orig_rax
        args = (regs.rdi, regs.rsi, regs.rdx)
        if not matched and number in PATH_ARG:
            path = read_string(pid, args[PATH_ARG[number]])
            if path and path.rstrip(b"/").split(b"/")[-1] == name:
                matched = True
                if not then_fstat:
                    subprocess.run(["bash", "-c", action], check=False)
                    acted = True
            continue
        if matched and then_fstat:
            empty_path = number in (NEWFSTATAT, STATX) and read_string(pid, args[1]) == b""
            if number == FSTAT or empty_path:
                subprocess.run(["bash", "-c", action], check=False)
                acted = True
    print("pausetrace: acted" if acted else "pausetrace: never reached", file=sys.stderr)
    sys.exit(code)


main()
