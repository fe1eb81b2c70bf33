"""Where the repository's files are, for tests in any folder under tests/."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
PROGRAMS = REPO / "tests" / "tracer" / "programs"
FEATURES = PROGRAMS / "features.py"
HISTOGRAM = EXAMPLES / "histogram.py"
