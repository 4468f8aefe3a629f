"""The ``thermoinfer`` command line.

One entry point with subcommands; each subcommand lives in its own module of this package and
exposes ``register(subparsers)``, which adds its parser and sets ``func`` to a callable
``run(args) -> int``. Bad input raises :class:`thermoinfer.errors.InputError` (or argparse's
own usage error); :func:`main` prints one line on stderr and exits with status 2, never a
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import InputError

__all__ = ["main", "build_parser"]

# subcommand modules, in the order of the help text
_SUBCOMMANDS = ("run", "theory", "simulate", "fit", "ep")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every available subcommand."""
    from .. import __version__

    parser = _Parser(
        prog="thermoinfer",
        description=(
            "Stochastic thermodynamics of learning (Goldt & Seifert, PRL 118, 010601; "
            "NJP 19, 113001). Units: k_B = 1, mobility 1, so the diffusion constant is T; heat "
            "and work in energy units (the units in which T is given, default T = 1); entropies "
            "and informations in nats; time in the units in which the rate k is given."
        ),
    )
    parser.add_argument("--version", action="version", version=f"thermoinfer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in _SUBCOMMANDS:
        try:
            mod = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:  # a subcommand not built yet
            if exc.name == f"{__name__}.{name}":
                continue
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 bad input, 1 failure)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (already printed)
        return int(exc.code or 0)
    if getattr(args, "func", None) is None:
        parser.print_usage(sys.stderr)
        print("thermoinfer: error: choose a command (see thermoinfer --help)", file=sys.stderr)
        return 2
    try:
        status = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows up here, not at interpreter exit
        return status
    except BrokenPipeError:  # the reader went away (`thermoinfer ... | head`): exit quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a command killed by the closed pipe
    except InputError as exc:
        print(f"thermoinfer {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the file system said no: one line, no traceback
        print(f"thermoinfer {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("thermoinfer: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
