"""What the engines' command lines share: one line and exit status 2 for bad input (a
bad argument, an unreadable file, invalid JSON), a time limit in seconds, the result
written as JSON to a file or standard output."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, NoReturn


class BadInput(Exception):
    """Bad input: its message is the one line the command prints before exiting with 2."""


class ExitParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: {message}\n")
        raise SystemExit(2)


def seconds(value: str) -> float:
    """A time limit: more than 0 and at most an hour."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a number of seconds") from None
    if not 0 < number <= 3600:
        raise argparse.ArgumentTypeError("must be between 0 and 3600 seconds")
    return number


def read_json(path: str) -> Any:
    """The file's JSON, or ``BadInput`` naming why not."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise BadInput(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise BadInput(f"{path}: invalid JSON: {exc}") from None


def write_json(data: Any, output: str | None) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
