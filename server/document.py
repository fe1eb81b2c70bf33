"""What the server knows about one Python document: its functions and methods, the inputs it
gives for them, and the defs it cannot call (the data; `inputs` reads it out of source text,
`calls` finds the calls written in it).

All line and column numbers are 0-based (LSP), columns in characters of the line.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

# (start_line, start_col, end_line, end_col), 0-based, end exclusive.
Range = tuple[int, int, int, int]


@dataclass
class Example:
    """A call of a function with known arguments, and what it should give when known."""
    function: str
    args: str                         # Python source of the arguments, as between ( )
    expected: str | None = None       # Python source of the expected value
    origin: str = "command"           # doctest | assert | test | history | command
    line: int | None = None           # 0-based line of the example in its document
    expected_range: Range | None = None   # where `expected` is written in that document
    raises: str | None = None         # doctest expects this exception type instead of a value
    where: str | None = None          # file the example was found in (tests)
    # Methods: the instance (`Stack([1])`) or class (`Shapes`, classmethods) the method is
    # called on, as Python source; passed as the first argument of `Class.method`, which is
    # how the sandbox calls it. None for functions and static methods.
    receiver: str | None = None
    label: str | None = None          # how the call was written, when that is not standalone
    attribute: bool = False           # a property: read as `receiver.name`, no call

    @property
    def method(self) -> str:
        return self.function.rsplit(".", 1)[-1]

    @property
    def run_args(self) -> str:
        """The arguments the sandbox gets: the receiver first, for methods."""
        if self.receiver is None:
            return self.args
        return self.receiver + (", " + self.args if self.args.strip() else "")

    @property
    def source_call(self) -> str:
        """The call as standalone Python source (`Stack([1]).push(2)`, `f(1)`,
        `Stack([1]).top` for a property)."""
        if self.receiver is None:
            return f"{self.function}({self.args})"
        if self.attribute:
            return f"{self.receiver}.{self.method}"
        return f"{self.receiver}.{self.method}({self.args})"

    @property
    def call(self) -> str:
        """The call as shown: as written in a doctest session (`s.pop()`), else standalone."""
        return self.label or self.source_call

    @property
    def key(self) -> str:
        return self.run_args


@dataclass
class FunctionInfo:
    name: str                         # name to run: "f", or "Class.method" for methods
    def_line: int                     # 0-based line of `def`
    name_range: Range                 # the name after `def`
    end_line: int                     # 0-based last line of the body
    params: list[str] = field(default_factory=list)
    required: int = 0                 # parameters without a default (and not *args/**kw)
    examples: list[Example] = field(default_factory=list)   # doctest examples
    after_line: int = 0               # 0-based line after the top-level statement (class)
    # function | static | class (classmethod) | method | property (its getter, run on an
    # instance) | init (`__init__`, run as `Cls(...)`: `name` is the class's)
    kind: str = "function"
    default_receiver: str | None = None   # methods: `Cls()` when it needs no arguments;
                                          # classmethods: `Cls`
    def_name: str = ""                    # the name after `def` (`__init__` for kind init)

    @property
    def is_method(self) -> bool:
        """Run on a receiver (an instance, or the class for a classmethod)."""
        return self.kind in ("method", "class", "property")

    def example(self, args: str, **kw) -> Example:
        """An input of this function (a property's is an attribute read)."""
        return Example(self.name, args, attribute=self.kind == "property", **kw)


    @property
    def cls(self) -> str | None:
        return self.name.rsplit(".", 1)[0] if "." in self.name else None

    def contains(self, line: int) -> bool:
        return self.def_line <= line <= self.end_line


@dataclass
class SyntaxProblem:
    message: str
    line: int                         # 0-based
    col: int


@dataclass
class Skipped:
    """A def that cannot be called on its own, and why (shown on hover)."""
    name: str
    def_line: int
    reason: str
    outer: str | None = None          # the runnable function it is defined in, if any
    end_line: int | None = None       # 0-based last line (nested defs)


@dataclass
class Document:
    text: str
    digest: str
    functions: list[FunctionInfo] = field(default_factory=list)
    asserts: list[Example] = field(default_factory=list)
    runnable: str = ""                # the text with top-level asserts and calls blanked out
    syntax: SyntaxProblem | None = None
    skipped: list["Skipped"] = field(default_factory=list)   # defs tracecot cannot call

    def function(self, name: str) -> FunctionInfo | None:
        if name.endswith(".__init__"):
            name = name[:-len(".__init__")]
            return next((f for f in self.functions if f.name == name and f.kind == "init"),
                        None)
        return next((f for f in self.functions if f.name == name), None)

    def skipped_at(self, line: int) -> "Skipped | None":
        return next((s for s in self.skipped if s.def_line == line), None)

    def nested_at(self, line: int) -> "Skipped | None":
        """The innermost def nested in a runnable function whose body holds `line`."""
        inside = [s for s in self.skipped if s.outer and s.end_line is not None
                  and s.def_line <= line <= s.end_line]
        return max(inside, key=lambda s: s.def_line) if inside else None

    def function_at(self, line: int) -> FunctionInfo | None:
        inside = [f for f in self.functions if f.contains(line)]
        return max(inside, key=lambda f: f.def_line) if inside else None

    def examples_for(self, name: str) -> list[Example]:
        fn = self.function(name)
        own = list(fn.examples) if fn else []
        return own + [e for e in self.asserts if e.function == name]


def digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()
