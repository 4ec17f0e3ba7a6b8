"""HM semantics for the command line and cfg files.

Arguments are processed strictly left to right and every assignment overwrites the previous
one (the last value encountered wins), exactly like HM's program_options_lite:

* ``-c FILE`` parses the cfg FILE at its position (repeatable);
* ``--Key=value`` sets a long key (a bare ``--Key`` means ``--Key=1``);
* ``-k value`` sets a key through a short alias (two tokens);
* a token that is not an option is ignored with ``Unhandled argument ignored: `X'``;
* ``--`` ends option parsing;
* unknown keys are errors (exit 1) unless ``WarnUnknowParameter`` (``-w 1``) is set.

cfg files hold ``Key : value`` lines; ``#`` starts a comment at line start or at the start of a
blank-separated word; malformed lines are warned about and skipped.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable

from gvcodec.errors import OptionError
from gvcodec.options.table import HM_ACCEPTED_KEYS, HM_ACCEPTED_PATTERN, Option, table_for

MAX_CFG_DEPTH = 16  # cfg files may not nest (HM has no include), but guard recursion anyway
_TRAILING_COMMENT = re.compile(r"(^|\s)#.*$")


class Options:
    """Parsed option values, read by attribute (`opts.qp`) or HM key (`opts["QP"]`).

    Attributes:
        command: encode, decode or metrics.
        explicit: HM keys given on the command line or in a cfg file.
        origin: for each explicit key, where its last value came from: "cfg" (a -c file) or
            "command line" (also values set through `set`).
        ignored: accepted HM keys without effect in gvcodec, with their values.
        warnings: messages to print on stderr (malformed cfg lines, stray arguments).
    """

    def __init__(self, command: str):
        self.command = command
        self._table = table_for(command)
        self._values: dict[str, Any] = {name: row.default for name, row in self._table.items()}
        self.explicit: set[str] = set()
        self.origin: dict[str, str] = {}
        self.ignored: dict[str, str] = {}
        self.warnings: list[str] = []
        self._attrs = {row.attr: name for name, row in self._table.items()}

    def __getattr__(self, attr: str) -> Any:
        attrs = self.__dict__.get("_attrs", {})
        if attr in attrs:
            return self._values[attrs[attr]]
        raise AttributeError(attr)

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def set(self, key: str, value: Any, origin: str = "command line") -> None:
        """Set a value programmatically (already converted); `origin` "cfg" or "command line"."""
        self._values[key] = value
        self.explicit.add(key)
        self.origin[key] = origin

    def on_command_line(self, key: str) -> bool:
        """Whether the key's value was given on the command line (not by a cfg file, not the default)."""
        return self.origin.get(key) == "command line"

    def items(self) -> Iterable[tuple[str, Any]]:
        return self._values.items()

    @property
    def table(self) -> dict[str, Option]:
        return self._table


class Parser:
    """HM's left-to-right parser filling `opts` (an Options, or a subclass with its own table).

    Subclasses may override `assign` (what one `Key = value` does) and `parse_cfg` (other cfg formats).
    """

    def __init__(self, opts: Options):
        self.opts = opts
        self.aliases = {a: row for row in opts.table.values() for a in row.aliases}
        self.unknown: list[str] = []
        self.cfg_depth = 0

    def assign(self, key: str, value: str, where: str) -> None:
        row = self.opts.table.get(key)
        if row is None:
            if key in HM_ACCEPTED_KEYS or HM_ACCEPTED_PATTERN.match(key):
                self.opts.ignored[key] = value
                return
            self.unknown.append(f"{where}error: Unknown option `{key}' (value:`{value}')")
            return
        try:
            self.opts.set(key, row.convert(value), "command line" if where.startswith("command line") else "cfg")
        except (ValueError, ArithmeticError) as exc:
            raise OptionError(f"{where}error: bad value `{value}' for {key}: {exc}") from None

    def parse_cfg(self, path: str) -> None:
        p = Path(path)
        if not p.is_file():
            raise OptionError(f"cannot open config file `{path}'")
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise OptionError(f"cannot read config file `{path}': {exc.strerror}") from None
        try:
            if b"\0" in data:
                raise UnicodeDecodeError("utf-8", data, data.index(b"\0"), data.index(b"\0") + 1, "NUL byte")
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise OptionError(f"config file `{path}' is not a text file (binary data at byte {exc.start})") from None
        for lineno, raw in enumerate(text.splitlines(), 1):
            line = _TRAILING_COMMENT.sub("", raw).strip()
            if not line:
                continue
            where = f"{path}:{lineno} "
            m = re.match(r"^([^\s:]+)\s*:\s*(.*)$", line)
            if not m:
                self.opts.warnings.append(f"{where}warning: line formatting error")
                continue
            key, value = m.group(1), m.group(2).strip()
            if not value:
                self.opts.warnings.append(f"{where}warning: no value found")
                continue
            self.assign(key, value, where)

    def parse_argv(self, argv: list[str]) -> None:
        i = 0
        while i < len(argv):
            tok = argv[i]
            if tok == "--":
                for rest in argv[i + 1:]:
                    self.opts.warnings.append(f"Unhandled argument ignored: `{rest}'")
                return
            if tok in ("-c", "--c"):
                if i + 1 >= len(argv):
                    raise OptionError("command line error: -c needs a config file name")
                self.parse_cfg(argv[i + 1])
                i += 2
                continue
            if tok.startswith("--") and "=" in tok:
                key, value = tok[2:].split("=", 1)
                if "--" + key in self.aliases:  # `--stats=FILE` style alias
                    key = self.aliases["--" + key].name
                self.assign(key, value, "command line ")
                i += 1
                continue
            if tok in self.aliases:
                if i + 1 >= len(argv):
                    raise OptionError(f"command line error: {tok} needs a value")
                self.assign(self.aliases[tok].name, argv[i + 1], "command line ")
                i += 2
                continue
            if tok.startswith("--") and len(tok) > 2:
                self.assign(tok[2:], "1", "command line ")  # HM: a bare --Key means --Key=1
                i += 1
                continue
            if tok.startswith("-") and len(tok) > 1 and not _is_number(tok):
                value = argv[i + 1] if i + 1 < len(argv) else ""
                self.unknown.append(f"command line error: Unknown option `{tok.lstrip('-')}' (value:`{value}')")
                i += 2
                continue
            self.opts.warnings.append(f"Unhandled argument ignored: `{tok}'")
            i += 1


def _is_number(tok: str) -> bool:
    try:
        float(tok)
        return True
    except ValueError:
        return False


def parse_options(argv: list[str], command: str) -> Options:
    """Parse an HM-style argument list for `command`.

    Args:
        argv: the raw arguments after the subcommand, in order.
        command: "encode", "decode" or "metrics".

    Returns:
        The Options; unknown keys raise OptionError (one line per key) unless -w 1 was given,
        in which case they become warnings.
    """
    parser = Parser(Options(command))
    parser.parse_argv(list(argv))
    if parser.unknown:
        if parser.opts.warn_unknow_parameter:
            parser.opts.warnings.extend(m.replace("error:", "warning:", 1) for m in parser.unknown)
        else:
            raise OptionError("\n".join(parser.unknown))
    return parser.opts
