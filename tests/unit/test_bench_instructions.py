"""bench.api.instructions: what it reads from callgrind's dumps, and the ratios it prints."""

from __future__ import annotations

from pathlib import Path

from bench.api.instructions import Counted, _dumped, ratios, table

DUMP = """# callgrind format
version: 1
creator: callgrind-3.19.0
cmd:  python -m api.cli serve --port 20001 --workers 1
part: 1
events: Ir
summary: 0

fn=(1) main
0 12
totals: 275664000
"""


def test_the_instructions_are_the_totals_of_the_file_written_at_exit_and_of_any_dump(tmp_path: Path) -> None:
    out = tmp_path / "callgrind-20001.out"
    out.write_text(DUMP, encoding="utf-8")
    assert _dumped(out) == 275_664_000

    (tmp_path / "callgrind-20001.out.1").write_text(DUMP.replace("275664000", "1000"), encoding="utf-8")
    (tmp_path / "callgrind-20002.out").write_text(DUMP, encoding="utf-8")  # another server's
    assert _dumped(out) == 275_665_000


def test_each_server_is_compared_with_plain_incentives_on_its_backend_and_operation() -> None:
    counted = [
        Counted("postgres", "incentives", "node", 300, 300 * 900_000),
        Counted("postgres", "incentives metrics", "node", 300, 300 * 990_000),
        Counted("postgres", "incentives metrics", "dashboard", 300, 300 * 5_000_000),
    ]

    found = ratios(counted)

    assert [round(entry.get("on/off", 0), 3) for entry in found] == [1.0, 1.1, 0]
    assert "| postgres | node | incentives metrics | 990,000 | 1.100 |" in table(found).splitlines()
    assert "| postgres | dashboard | incentives metrics | 5,000,000 | n/a |" in table(found).splitlines()
