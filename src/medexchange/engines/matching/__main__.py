"""``python -m medexchange.engines.matching INSTANCE.json [--output RESULT.json]``.

Exit status 0 on success, 2 with one line on standard error for bad input
(unreadable file, invalid JSON, malformed instance), never a traceback for it.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from pathlib import Path

from . import ENGINE_VERSION, InstanceError, parse_instance, result_to_json
from .explain import build_result
from .solve import compile_instance, solve_compiled


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: {message}\n")
        raise SystemExit(2)


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m medexchange.engines.matching", description=__doc__)
    parser.add_argument("instance", help="instance JSON (see docs/matching-engine.md)")
    parser.add_argument("--output", "-o", help="write the result here instead of standard output")
    parser.add_argument(
        "--no-explanations", action="store_true", help="omit the per-applicant explanations"
    )
    parser.add_argument(
        "--no-timing", action="store_true", help="omit stats.seconds: byte-identical output"
    )
    parser.add_argument("--version", action="version", version=ENGINE_VERSION)
    args = parser.parse_args(argv)
    # A short-lived process that allocates millions of small objects and frees
    # nothing before it exits: the cyclic collector only costs time here.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _run(args)
    finally:
        if was_enabled:
            gc.enable()


def _run(args: argparse.Namespace) -> int:
    try:
        raw = Path(args.instance).read_bytes()
    except OSError as exc:
        sys.stderr.write(f"{args.instance}: cannot read: {exc.strerror}\n")
        return 2
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        sys.stderr.write(f"{args.instance}: invalid JSON: {exc}\n")
        return 2
    try:
        instance = parse_instance(data)
    except InstanceError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    compiled = compile_instance(instance)
    result = build_result(compiled, solve_compiled(compiled), explain=not args.no_explanations)
    text = json.dumps(
        result_to_json(result, timing=not args.no_timing),
        ensure_ascii=False,
        separators=(",", ":"),
    )
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
