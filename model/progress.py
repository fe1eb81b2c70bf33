"""A dependency-free progress bar on stderr (a line per 10% when stderr is not a terminal)."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: int, desc: str = "", enabled: bool = True, initial: int = 0,
                 stream=None):
        self.total, self.desc, self.enabled = max(total, 0), desc, enabled
        self.done = self.start_done = initial
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.t0 = time.perf_counter()
        self._last_decile = -1
        self.update(0)

    def update(self, n: int, note: str = "") -> None:
        self.done = min(self.total, self.done + n)
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.t0
        new = self.done - self.start_done
        rate = new / elapsed * 60 if elapsed > 0 and new else 0.0
        left = self.total - self.done
        eta = f"{int(left / rate * 60) // 60}:{int(left / rate * 60) % 60:02d}" if rate else "?"
        frac = self.done / self.total if self.total else 1.0
        width = 24
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        line = (f"{self.desc} [{bar}] {self.done}/{self.total} {rate:.1f} tasks/min "
                f"eta {eta} {note}")
        if self.tty:
            self.stream.write("\r" + line[:150].ljust(150))
        else:
            decile = int(frac * 10)
            if decile == self._last_decile and self.done != self.total:
                return
            self._last_decile = decile
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()
