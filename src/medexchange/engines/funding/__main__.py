"""``python -m medexchange.engines.funding INSTANCE.json [--output RESULT.json] [--time-limit S]``.

Exit status 0 with an allocation (optimal or feasible), 1 when there is none (pins
that cannot all hold, named in ``conflicts``; or no allocation found in time), 2 with
one line on standard error for bad input, never a traceback for it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import ENGINE_VERSION, InstanceError, parse_instance, result_to_json, solve


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: {message}\n")
        raise SystemExit(2)


def _seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a number of seconds") from None
    if not 0 < number <= 3600:
        raise argparse.ArgumentTypeError("must be between 0 and 3600 seconds")
    return number


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m medexchange.engines.funding", description=__doc__)
    parser.add_argument("instance", help="instance JSON (see docs/funding-allocation-engine.md)")
    parser.add_argument("--output", "-o", help="write the result here instead of standard output")
    parser.add_argument(
        "--time-limit", type=_seconds, default=None, help="seconds (default: options.time_limit)"
    )
    parser.add_argument("--version", action="version", version=ENGINE_VERSION)
    args = parser.parse_args(argv)
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
    result = solve(instance, time_limit=args.time_limit)
    text = json.dumps(result_to_json(result, instance.minor_digits), ensure_ascii=False, indent=1)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")
    return 0 if result.status in ("optimal", "feasible") else 1


if __name__ == "__main__":
    raise SystemExit(main())
