"""``python -m medexchange.engines.funding INSTANCE.json [--output RESULT.json] [--time-limit S]``.

Exit status 0 with an allocation (optimal or feasible), 1 when there is none (pins
that cannot all hold, named in ``conflicts``; or no allocation found in time), 2 with
one line on standard error for bad input, never a traceback for it.
"""

from __future__ import annotations

import sys

from medexchange.engines.cli import BadInput, ExitParser, read_json, seconds, write_json

from . import ENGINE_VERSION, InstanceError, parse_instance, result_to_json, solve


def main(argv: list[str] | None = None) -> int:
    parser = ExitParser(prog="python -m medexchange.engines.funding", description=__doc__)
    parser.add_argument("instance", help="instance JSON (see docs/funding-allocation-engine.md)")
    parser.add_argument("--output", "-o", help="write the result here instead of standard output")
    parser.add_argument(
        "--time-limit", type=seconds, default=None, help="seconds (default: options.time_limit)"
    )
    parser.add_argument("--version", action="version", version=ENGINE_VERSION)
    args = parser.parse_args(argv)
    try:
        data = read_json(args.instance)
    except BadInput as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    try:
        instance = parse_instance(data)
    except InstanceError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    result = solve(instance, time_limit=args.time_limit)
    write_json(result_to_json(result, instance.minor_digits), args.output)
    return 0 if result.status in ("optimal", "feasible") else 1


if __name__ == "__main__":
    raise SystemExit(main())
