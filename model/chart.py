"""A labelled bar chart as PNG: matplotlib when installed, else a dependency-free rasterizer.

The fallback writes the PNG itself (zlib + crc32 from the standard library) with a small
3x5 pixel font drawn for this module, so an evaluation always leaves a chart behind.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

# 3x5 glyphs: five rows, each an octal digit whose bits are the left, middle, right pixels.
_FONT = {
    "0": "75557", "1": "26227", "2": "71747", "3": "71717", "4": "55711", "5": "74717",
    "6": "74757", "7": "71111", "8": "75757", "9": "75717", "A": "25755", "B": "65656",
    "C": "34443", "D": "65556", "E": "74647", "F": "74644", "G": "34553", "H": "55755",
    "I": "72227", "J": "11152", "K": "55655", "L": "44447", "M": "57755", "N": "65555",
    "O": "25552", "P": "65644", "Q": "25563", "R": "65655", "S": "34216", "T": "72222",
    "U": "55557", "V": "55552", "W": "55775", "X": "55255", "Y": "55222", "Z": "71247",
    " ": "00000", ".": "00002", "%": "51245", "@": "25743", "-": "00700", ":": "02020",
    "/": "11244", "(": "12221", ")": "42224", "_": "00007", ",": "00024", "=": "07070",
    "+": "02720", "?": "71202",
}
_COLORS = [(54, 110, 180), (230, 140, 40), (70, 160, 90), (190, 70, 70), (130, 100, 180)]


class _Canvas:
    def __init__(self, w: int, h: int):
        self.w, self.h = w, h
        self.px = bytearray(b"\xff" * (w * h * 3))

    def rect(self, x0: int, y0: int, x1: int, y1: int, rgb) -> None:
        x0, x1 = max(0, min(x0, x1)), min(self.w, max(x0, x1))
        y0, y1 = max(0, min(y0, y1)), min(self.h, max(y0, y1))
        row = bytes(rgb) * (x1 - x0)
        for y in range(y0, y1):
            at = (y * self.w + x0) * 3
            self.px[at:at + len(row)] = row

    def text(self, x: int, y: int, s: str, scale: int = 2, rgb=(30, 30, 30)) -> None:
        for ch in s.upper():
            rows = _FONT.get(ch, _FONT["?"])
            for r, digit in enumerate(rows):
                bits = int(digit, 8)
                for c in range(3):
                    if bits & (4 >> c):
                        self.rect(x + c * scale, y + r * scale, x + (c + 1) * scale,
                                  y + (r + 1) * scale, rgb)
            x += 4 * scale

    def png(self) -> bytes:
        raw = b"".join(b"\x00" + bytes(self.px[y * self.w * 3:(y + 1) * self.w * 3])
                       for y in range(self.h))

        def chunk(kind: bytes, data: bytes) -> bytes:
            return (struct.pack(">I", len(data)) + kind + data
                    + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
        header = struct.pack(">IIBBBBB", self.w, self.h, 8, 2, 0, 0, 0)
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def text_width(s: str, scale: int = 2) -> int:
    return len(s) * 4 * scale


def _fallback(path: Path, title: str, bars: list[tuple[str, float]], subtitle: str) -> None:
    w, h = max(480, 140 + 110 * len(bars)), 360
    cv = _Canvas(w, h)
    cv.text(20, 14, title[: (w - 40) // 12], scale=3)
    if subtitle:
        cv.text(20, 40, subtitle[: (w - 40) // 8], scale=2)
    left, top, bottom = 70, 70, h - 50
    cv.rect(left, top, left + 2, bottom, (0, 0, 0))
    cv.rect(left, bottom, w - 20, bottom + 2, (0, 0, 0))
    for pct in (0, 25, 50, 75, 100):
        y = bottom - (bottom - top) * pct // 100
        cv.rect(left - 6, y, left, y + 1, (0, 0, 0))
        cv.rect(left + 2, y, w - 20, y + 1, (225, 225, 225)) if pct else None
        cv.text(left - 10 - text_width(f"{pct}%"), y - 5, f"{pct}%")
    slot = (w - 40 - left) // max(1, len(bars))
    for i, (label, value) in enumerate(bars):
        x0 = left + 10 + i * slot
        bw = max(10, slot - 30)
        y = bottom - int((bottom - top) * max(0.0, min(1.0, value)))
        cv.rect(x0, y, x0 + bw, bottom, _COLORS[i % len(_COLORS)])
        val = f"{100 * value:.1f}%"
        cv.text(x0 + (bw - text_width(val)) // 2, y - 16, val)
        lab = label[: max(1, (slot - 4) // 8)]
        cv.text(x0 + (bw - text_width(lab)) // 2, bottom + 10, lab)
    path.write_bytes(cv.png())


def bar_chart(path: str | Path, title: str, bars: list[tuple[str, float]],
              subtitle: str = "") -> Path:
    """Write a bar chart of rates in [0, 1] (e.g. pass@1, pass@k) to `path`."""
    path = Path(path)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        _fallback(path, title, bars, subtitle)
        return path
    fig, ax = plt.subplots(figsize=(max(4.8, 1.4 * len(bars) + 2), 3.6), dpi=100)
    ax.bar([b[0] for b in bars], [100 * b[1] for b in bars],
           color=["#%02x%02x%02x" % _COLORS[i % len(_COLORS)] for i in range(len(bars))])
    for i, (_, v) in enumerate(bars):
        ax.text(i, 100 * v + 1, f"{100 * v:.1f}%", ha="center")
    ax.set_ylim(0, 100)
    ax.set_ylabel("%")
    ax.set_title(title + (f"\n{subtitle}" if subtitle else ""), fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def line_chart(path: str | Path, title: str, series: list[tuple[str, list[tuple[float, float]]]],
               xlabel: str = "", subtitle: str = "") -> Path:
    """Write curves (e.g. train and validation loss against tokens) to `path`."""
    path = Path(path)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        _line_fallback(path, title, series, xlabel, subtitle)
        return path
    fig, ax = plt.subplots(figsize=(6.4, 3.8), dpi=100)
    for label, pts in series:
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], label=label,
                    marker="o" if len(pts) < 30 else None)
    ax.set_xlabel(xlabel)
    ax.legend()
    ax.set_title(title + (f"\n{subtitle}" if subtitle else ""), fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _line_fallback(path: Path, title: str, series, xlabel: str, subtitle: str) -> None:
    w, h = 640, 380
    cv = _Canvas(w, h)
    cv.text(20, 14, title[: (w - 40) // 12], scale=3)
    if subtitle:
        cv.text(20, 40, subtitle[: (w - 40) // 8], scale=2)
    left, top, right, bottom = 80, 70, w - 20, h - 50
    cv.rect(left, top, left + 2, bottom, (0, 0, 0))
    cv.rect(left, bottom, right, bottom + 2, (0, 0, 0))
    pts = [p for _, s in series for p in s if p[1] == p[1]]     # NaN-free
    if not pts:
        path.write_bytes(cv.png())
        return
    x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts) or 1
    y0, y1 = min(p[1] for p in pts), max(p[1] for p in pts)
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1)
    for frac in (0, 0.5, 1):
        y = bottom - int((bottom - top) * frac)
        val = f"{y0 + frac * (y1 - y0):.2f}"
        cv.text(left - 10 - text_width(val), y - 5, val)
    cv.text(right - text_width(f"{x1:.0f}"), bottom + 10, f"{x1:.0f}")
    cv.text(left, bottom + 10, xlabel[:40].upper())
    for i, (label, s) in enumerate(series):
        color = _COLORS[i % len(_COLORS)]
        cv.text(right - 200, top + 4 + 16 * i, label.upper()[:24], rgb=color)
        for x, y in s:
            if y != y:
                continue
            px = left + int((right - left) * (x - x0) / (x1 - x0))
            py = bottom - int((bottom - top) * (y - y0) / (y1 - y0))
            cv.rect(px - 1, py - 1, px + 2, py + 2, color)
    path.write_bytes(cv.png())
