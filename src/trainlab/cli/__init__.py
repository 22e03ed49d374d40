"""The ``trainlab`` command line.

Each subcommand lives in its own module in this package and exposes
``add_parser(subparsers)`` which registers itself and sets ``func``.
Adding a command means adding a module and one name to ``COMMANDS``.
"""
from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from typing import Any

from trainlab.errors import UserError
from trainlab.version import __version__

COMMANDS: tuple[str, ...] = (
    "train",
    "resume",
    "data",
    "report",
    "reproduce",
    "gradcheck",
    "doctor",
    "landscape",
    "search",
)


class OneLineErrorParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line naming the fix, exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="trainlab",
        description="Train, probe, check and reproduce the fundamentals of neural-network training.",
    )
    parser.add_argument("--version", action="version", version=f"trainlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"trainlab.cli.{name.replace('-', '_')}").add_parser(sub)
    return parser




def main(argv: "list[str] | None" = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    command = next((w for w in words if w in COMMANDS), None)
    try:  # importing the commands (torch among them) takes a while: Ctrl-C may come during it
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help, --version, or a usage error already printed
            return exc.code if isinstance(exc.code, int) else 2
        if not getattr(args, "func", None):
            parser.print_help(sys.stderr)
            return 2
        command = args.command
        with warnings.catch_warnings():
            from trainlab.runs import RunDirWarning

            warnings.simplefilter("always", RunDirWarning)
            warnings.showwarning = _one_line(RunDirWarning, command, warnings.showwarning)
            return int(args.func(args) or 0)
    except UserError as exc:
        print(f"{_prog(command)}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{_prog(command)}: interrupted", file=sys.stderr)
        return 130


def _prog(command: str | None) -> str:
    return f"trainlab {command}" if command else "trainlab"


def _one_line(category: type[Warning], command: str, fallback: Any) -> Any:
    """A ``warnings.showwarning`` that prints ``category`` as one line naming the command, others as before."""
    def show(message: Any, cls: type[Warning], filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
        if issubclass(cls, category):
            print(f"{_prog(command)}: warning: {message}", file=sys.stderr)
        else:
            fallback(message, cls, filename, lineno, file, line)
    return show


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
