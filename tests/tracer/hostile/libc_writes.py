# Writes outside the temporary directory through libc, past the audit hook: only the kernel
# layers (Landlock, seccomp) stand in the way. Returns what each call returned.
import ctypes
import os


def f(new_path, victim, new_dir):
    libc = ctypes.CDLL(None, use_errno=True)
    b = os.fsencode
    return {
        "open(O_CREAT)": libc.open(b(new_path), os.O_CREAT | os.O_WRONLY, 0o644),
        "unlink": libc.unlink(b(victim)),
        "truncate": libc.truncate(b(victim), 0),
        "rename": libc.rename(b(victim), b(new_path)),
        "chmod": libc.chmod(b(victim), 0o4777),
        "chown": libc.chown(b(victim), 1, 1),
        "mkdir": libc.mkdir(b(new_dir), 0o755),
        "symlink": libc.symlink(b(victim), b(new_path)),
        "link": libc.link(b(victim), b(new_path)),
    }
