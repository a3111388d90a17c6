"""The command line: results, byte-identical output, bad input (exit 2, one line)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from medexchange.engines.matching import ENGINE_VERSION
from medexchange.engines.matching.__main__ import main

GOOD: dict[str, Any] = {
    "applicants": [{"id": "a1", "ranks": ["p3", "p1"]}, {"id": "a2", "ranks": ["p1"]}],
    "programs": [
        {"id": "p1", "capacity": 4, "ranks": ["a2", "a1"]},
        {"id": "p3", "capacity": 1, "ranks": ["a1"]},
    ],
}


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "instance.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_cli_writes_the_result_and_is_byte_identical(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    outputs = []
    for k in range(2):
        out = tmp_path / f"r{k}.json"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "medexchange.engines.matching",
                str(path),
                "--output",
                str(out),
                "--no-timing",
            ],
            capture_output=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    result = json.loads(outputs[0])
    assert result["matching"] == {"a1": "p3", "a2": "p1"}
    assert "seconds" not in result["stats"]


def test_stdout_and_timing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(write(tmp_path, GOOD)), "--no-explanations"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert isinstance(result["stats"]["seconds"], float)
    assert "explanations" not in result
    assert result["engine_version"] == ENGINE_VERSION


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == ENGINE_VERSION


def bad(programs: list[Any] | None = None, **extra: Any) -> dict[str, Any]:
    data = json.loads(json.dumps(GOOD))
    if programs is not None:
        if all(p.get("id") != "p3" for p in programs):
            programs = [*programs, {"id": "p3", "capacity": 1}]
        data["programs"] = programs
    data.update(extra)
    return data


BAD_CASES = [
    ("{not json", "invalid JSON"),
    ([], "$: must be an object"),
    (
        bad(programs=[{"id": "p1", "capacity": -1, "ranks": []}]),
        "programs[0].capacity: must be a non-negative integer",
    ),
    (
        bad(programs=[{"id": "p1", "capacity": True, "ranks": []}]),
        "programs[0].capacity: must be a non-negative integer",
    ),
    (
        bad(programs=[{"id": "p1", "capacity": 1, "ranks": ["zz"]}]),
        "programs[0].ranks[0]: unknown applicant id 'zz'",
    ),
    (
        bad(
            programs=[
                {"id": "p1", "capacity": 1, "ranks": ["a1", "a1"]},
                {"id": "p3", "capacity": 1},
            ]
        ),
        "programs[0].ranks[1]: repeated applicant id 'a1'",
    ),
    (
        bad(applicants=[{"id": "a1", "ranks": ["p1", "p9"]}, {"id": "a2"}]),
        "applicants[0].ranks[1]: unknown program id 'p9'",
    ),
    (
        bad(applicants=[{"id": "a1", "ranks": ["p1", "p1"]}, {"id": "a2"}]),
        "applicants[0].ranks[1]: repeated program id 'p1'",
    ),
    (bad(applicants=[{"id": "a1"}, {"id": "a1"}]), "applicants[1].id: repeated id 'a1'"),
    (bad(applicants=[{"id": ""}]), "applicants[0].id: must be a non-empty string"),
    (
        bad(couples=[{"members": ["a1", "ghost"], "ranks": []}]),
        "couples[0].members[1]: unknown applicant id 'ghost'",
    ),
    (
        bad(couples=[{"members": ["a1", "a2"], "ranks": [[None, None]]}]),
        "couples[0].ranks[0]: must name at least one program",
    ),
    (
        bad(couples=[{"members": ["a1", "a2"], "ranks": [["p1", "p7"]]}]),
        "couples[0].ranks[0][1]: unknown program id 'p7'",
    ),
    (
        bad(quotas=[{"id": "q", "capacity": 1, "programs": ["p1"], "applicants": ["x"]}]),
        "quotas[0].applicants[0]: unknown applicant id 'x'",
    ),
    (
        bad(
            programs=[
                {"id": "p1", "capacity": 1, "ranks": [], "reserved": {"g": 2}},
                {"id": "p3", "capacity": 1},
            ]
        ),
        "programs[0].reserved: reserved seats exceed the capacity",
    ),
    (bad(extra_key=1), "extra_key: unknown key"),
]


@pytest.mark.parametrize(("data", "message"), BAD_CASES)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: Any, message: str
) -> None:
    assert main([str(write(tmp_path, data))]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert message in lines[0]
    assert "Traceback" not in captured.err


def test_bad_input_through_a_real_process(tmp_path: Path) -> None:
    path = write(tmp_path, bad(programs=[{"id": "p1", "capacity": -3, "ranks": []}]))
    done = subprocess.run(
        [sys.executable, "-m", "medexchange.engines.matching", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == "programs[0].capacity: must be a non-negative integer\n"


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "nope.json")]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 1


def test_integers_beyond_64_bits_are_written_as_before(tmp_path: Path) -> None:
    huge = 123456789012345678901234567890
    path = write(tmp_path, {"applicants": [], "programs": [{"id": "p", "capacity": huge}]})
    out = tmp_path / "r.json"
    assert main([str(path), "--output", str(out), "--no-timing"]) == 0
    result = json.loads(out.read_bytes())
    assert result["unfilled"] == {"p": huge}
    assert result["explanations"]["programs"]["p"]["capacity"] == huge
