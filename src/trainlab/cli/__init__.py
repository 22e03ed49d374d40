"""The ``trainlab`` command line.

Each subcommand lives in its own module in this package and exposes
``add_parser(subparsers)`` which registers itself and sets ``func``.
Adding a command means adding a module and one name to ``COMMANDS``.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from trainlab import __version__
from trainlab.errors import UserError

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
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else 2
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"trainlab {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"trainlab {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
