"""The seccomp filter every sandboxed process runs under, compiled once to BPF with pyseccomp.

bubblewrap loads the program (``--seccomp FD``) right before it executes the sandboxed command,
so the interpreter pays nothing for it. The default is allow; the listed syscalls fail with
EPERM (an ordinary ``PermissionError`` in Python, which the escape tests assert), ``clone3``
fails with ENOSYS so the C library falls back to ``clone``, whose namespace flags are refused.
"""

from __future__ import annotations

import errno
import socket
import tempfile

import pyseccomp

DENIED_SYSCALLS: tuple[str, ...] = (
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "syslog",
    "quotactl",
    "open_by_handle_at",
    "name_to_handle_at",
    "iopl",
    "ioperm",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "fanotify_init",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "fsopen",
    "fsmount",
    "fsconfig",
    "fspick",
    "move_mount",
    "open_tree",
    "mount_setattr",
    "personality",
    "lookup_dcookie",
    "vhangup",
    "uselib",
)

# Any of these in clone()'s flags would create a namespace.
CLONE_NAMESPACE_FLAGS = (
    0x00020000  # CLONE_NEWNS
    | 0x02000000  # CLONE_NEWCGROUP
    | 0x04000000  # CLONE_NEWUTS
    | 0x08000000  # CLONE_NEWIPC
    | 0x10000000  # CLONE_NEWUSER
    | 0x20000000  # CLONE_NEWPID
    | 0x40000000  # CLONE_NEWNET
    | 0x00000080  # CLONE_NEWTIME
)


def build_filter_bpf() -> bytes:
    """The BPF program (for bubblewrap's ``--seccomp``)."""
    sf = pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)
    for name in DENIED_SYSCALLS:
        try:
            sf.add_rule(pyseccomp.ERRNO(errno.EPERM), name)
        except Exception as error:  # a syscall unknown to this libseccomp/arch
            if name in ("ptrace", "mount", "unshare", "setns", "bpf", "keyctl"):
                raise RuntimeError(f"cannot filter required syscall {name}: {error!r}") from error
    sf.add_rule(pyseccomp.ERRNO(errno.ENOSYS), "clone3")
    for flag in _bits(CLONE_NAMESPACE_FLAGS):
        sf.add_rule(pyseccomp.ERRNO(errno.EPERM), "clone", pyseccomp.Arg(0, pyseccomp.MASKED_EQ, flag, flag))
    # Only local (unix) sockets: the network namespace is empty anyway; this is a second wall.
    sf.add_rule(pyseccomp.ERRNO(errno.EACCES), "socket", pyseccomp.Arg(0, pyseccomp.NE, socket.AF_UNIX))
    with tempfile.TemporaryFile() as handle:  # libseccomp writes to a real file descriptor
        sf.export_bpf(handle)
        handle.seek(0)
        return handle.read()


def _bits(mask: int) -> list[int]:
    return [1 << bit for bit in range(mask.bit_length()) if mask & (1 << bit)]
