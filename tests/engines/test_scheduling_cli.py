"""The scheduler's command line: a plan, an explanation, and bad input (exit 2, one line)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from medexchange.engines.scheduling.__main__ import main

from .scheduling_support import problems

PLAN: dict[str, Any] = {
    "horizon": {"start": "2027-03-01", "count": 4},
    "sites": [{"id": "er", "capacity": 2}, {"id": "icu", "capacity": 2}],
    "participants": [{"id": "ana", "preferences": ["icu"]}, {"id": "bo"}],
    "rules": {"min_sites": 2, "max_stay": 2},
}


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_a_plan_is_written_to_the_output_file(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    assert main([str(write(tmp_path, PLAN)), "--output", str(out), "--time-limit", "5"]) == 0
    result = json.loads(out.read_text())
    assert result["status"] == "optimal"
    assert result["objective"] == result["bound"]
    assert problems(PLAN, result["assignment"]) == []


def test_no_plan_exits_1_and_names_the_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    crowded = {
        **PLAN,
        "sites": [{"id": "er", "capacity": 1}, {"id": "icu", "capacity": 1}],
        "participants": [{"id": "ana"}, {"id": "bo"}, {"id": "cy"}],
    }
    assert main([str(write(tmp_path, crowded))]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "infeasible"
    assert "capacity:er" in result["conflicts"][0]["rules"]


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ("{not json", "invalid JSON"),
        (
            json.dumps({**PLAN, "sites": [{"id": "er", "capacity": -2}]}),
            "sites[0].capacity: must be a non-negative integer",
        ),
        (
            json.dumps({**PLAN, "participants": [{"id": "ana", "must_visit": ["x"]}]}),
            "participants[0].must_visit[0]: unknown site 'x'",
        ),
        (
            json.dumps({**PLAN, "rules": {"min_sites": 3}}),
            "participants[0]: must visit 3 sites but only 2 are open to them",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, content: str, line: str) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "medexchange.engines.scheduling", str(write(tmp_path, content))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert line in completed.stderr
    assert completed.stderr.count("\n") == 1
    assert "Traceback" not in completed.stderr


def test_a_bad_time_limit_exits_2(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        main([str(write(tmp_path, PLAN)), "--time-limit", "-1"])
    assert caught.value.code == 2
