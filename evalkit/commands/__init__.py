"""Subcommands of ``evalkit`` beyond score/compare/run/list, one module each (see ``evalkit.cli.COMMAND_MODULES``).

A module defines ``add_parser(sub)``: it adds its subparser to ``sub`` (argparse's subparsers action) and calls
``parser.set_defaults(handler=fn)`` with ``fn(args) -> int``. Raise ``evalkit.errors.EvalkitError`` for user errors.
"""
