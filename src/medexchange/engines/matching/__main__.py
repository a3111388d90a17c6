"""``python -m medexchange.engines.matching INSTANCE.json [--output RESULT.json]``.

Exit status 0 on success, 2 with one line on standard error for bad input
(unreadable file, invalid JSON, malformed instance), never a traceback for it.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from pathlib import Path

from . import ENGINE_VERSION, InstanceError
from .explain import outcome_to_bytes
from .parse import parse_indexed
from .solve import compile_instance, solve_compiled


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: {message}\n")
        raise SystemExit(2)


# With ``main(retain=True)`` (the process entry point below) the loaded data stays
# referenced here until ``os._exit``: nothing is freed object by object.
_RETAINED: list[object] = []


def main(argv: list[str] | None = None, *, retain: bool = False) -> int:
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
        return _run(args, _RETAINED if retain else None)
    finally:
        if was_enabled:
            gc.enable()


def _run(args: argparse.Namespace, retained: list[object] | None) -> int:
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
        indexed = parse_indexed(data)
    except InstanceError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    compiled = compile_instance(*indexed)
    outcome = solve_compiled(compiled)
    payload = outcome_to_bytes(
        compiled, outcome, explain=not args.no_explanations, timing=not args.no_timing
    )
    if retained is not None:
        retained.extend((data, indexed, compiled, outcome, payload))
    # Compact UTF-8 JSON, written at once.
    if args.output:
        with Path(args.output).open("wb") as f:
            f.write(payload)
            f.write(b"\n")
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(payload)
        sys.stdout.buffer.write(b"\n")
        sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    status = main(retain=True)
    # The result is written and flushed: end the process without freeing its
    # millions of objects one by one (~0.1 s on an NRMP-sized instance).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
