"""The ``minigrad`` command: one module per subcommand, each with ``add_parser`` and ``run``."""
import argparse
import importlib
import sys

# subcommand name -> module under minigrad.cli
COMMANDS = {
    "train": "train",
    "compare": "compare",
    "lr-find": "lr_find",
    "explain": "explain",
    "schedule": "schedule",
}


class CLIError(Exception):
    """A user error: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise CLIError(f"{self.prog}: {message}")


def build_parser():
    parser = _Parser(prog="minigrad", description="Train, inspect and compare with minigrad.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    modules = {}
    for name, modname in COMMANDS.items():
        try:
            mod = importlib.import_module(f"minigrad.cli.{modname}")
        except ModuleNotFoundError as e:
            if e.name != f"minigrad.cli.{modname}":
                raise
            continue
        mod.add_parser(sub, name)
        modules[name] = mod
    return parser, modules


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        parser, modules = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 0
        return modules[args.command].run(args) or 0
    except CLIError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, RuntimeError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
