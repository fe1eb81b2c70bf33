# A block device node inside the temporary directory (would give raw disk access as root).
import os
import stat


def f():
    os.mknod("disk", stat.S_IFBLK | 0o600, os.makedev(8, 0))
    return "created"
