"""The allocation command line: a result, pins that conflict (exit 1), bad input (exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from medexchange.engines.funding.__main__ import main

from .funding_support import problems

INSTANCE: dict[str, Any] = {
    "currency": "EUR",
    "minor_digits": 2,
    "funds": [{"id": "f1", "available": "12000.00"}, {"id": "f2", "available": "800.50"}],
    "requests": [
        {"id": "r1", "priority": 87.5, "amount": "1500.00", "funds": ["f1", "f2"]},
        {"id": "r2", "priority": 60, "amount": "900.00", "min_amount": "600.00", "funds": ["f2"]},
        {"id": "r3", "priority": 40, "amount": "11000.00", "funds": ["f1"]},
    ],
    "options": {"allow_split": True, "time_limit": 5},
}


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "instance.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_an_allocation_is_written_to_the_output_file(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    code = main([str(write(tmp_path, INSTANCE)), "--output", str(out), "--time-limit", "3"])
    assert code == 0
    result = json.loads(out.read_text())
    assert result["status"] == "optimal"
    assert problems(INSTANCE, result) == []
    # r1 and r3 do not both fit f1 + what f2 keeps for r2: r3 waits.
    assert [a["request"] for a in result["awards"]] == ["r1", "r2"]
    assert result["explanations"]["r3"]["reason_code"] == "outranked"
    assert result["explanations"]["r2"]["reason_code"] == "funded_reduced"


def test_conflicting_pins_exit_1_and_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pinned = json.loads(json.dumps(INSTANCE))
    for r in pinned["requests"]:
        r["pinned"] = "award"
    assert main([str(write(tmp_path, pinned))]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "infeasible"
    assert result["conflicts"][0]["code"] == "pinned_awards_overrun_funds"


def _with(**changes: Any) -> str:
    data = json.loads(json.dumps(INSTANCE))
    for path, value in changes.items():
        section, index, key = path.split("__")
        data[section][int(index)][key] = value
    return json.dumps(data)


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ("{not json", "invalid JSON"),
        (_with(requests__0__funds=["f1", "nope"]), "requests[0].funds[1]: unknown fund id 'nope'"),
        (_with(funds__1__available="-5.00"), "funds[1].available: must not be negative (-5.00)"),
        (_with(requests__1__amount="-900.00"), "requests[1].amount: must not be negative"),
        (
            _with(requests__1__min_amount="950.00"),
            "requests[1].min_amount: is more than the amount (950.00 > 900.00)",
        ),
        (_with(requests__0__amount="1500.005"), "requests[0].amount: has more than 2 decimals"),
        (_with(requests__2__id="r1"), "requests[2].id: repeated request id 'r1'"),
        (_with(funds__1__id="f1"), "funds[1].id: repeated fund id 'f1'"),
        (_with(requests__0__amount=1500.5), "requests[0].amount: must be a decimal string"),
        (_with(requests__0__priority=87.555), "requests[0].priority: has more than 2 decimals"),
        (_with(requests__0__pinned="maybe"), 'requests[0].pinned: must be "award"'),
        (json.dumps({**INSTANCE, "currency": "euro"}), "currency: must be an ISO 4217 code"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, line: str
) -> None:
    assert main([str(write(tmp_path, content))]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert line in err


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ("{not json", "invalid JSON"),
        (_with(requests__0__funds=["f1", "nope"]), "requests[0].funds[1]: unknown fund id 'nope'"),
    ],
)
def test_the_process_exits_2_without_a_traceback(tmp_path: Path, content: str, line: str) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "medexchange.engines.funding", str(write(tmp_path, content))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert completed.stderr.count("\n") == 1
    assert line in completed.stderr


def test_a_missing_file_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "absent.json")]) == 2
    assert "cannot read" in capsys.readouterr().err
