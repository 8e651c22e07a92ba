"""The ``course`` command."""
from __future__ import annotations

import argparse
import sys

from . import __version__


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the ``course`` command and its subcommands."""
    parser = argparse.ArgumentParser(prog="course", description="Tools of the deep RL course.")
    parser.add_argument("--version", action="version", version=f"course_utils {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("doctor", help="check this set-up (versions, rendering, video) and say what to fix")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``course`` command; return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "doctor":
        from .doctor import main as doctor

        return doctor()
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
