"""The CLI contract other tools depend on, run as a real subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from intake import cli

INTAKE = [sys.executable, "-m", "intake.cli"]


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "INTAKE_CONFIG"}
    return subprocess.run(INTAKE + args, cwd=cwd, check=False, capture_output=True, text=True, timeout=300, env=env)


def test_parse_prints_one_json_object_per_file_and_survives_unreadable_ones(tmp_path: Path) -> None:
    good = tmp_path / "good.eml"
    good.write_bytes(b"From: a@example.org\r\nTo: ccm@unog.ch\r\nSubject: hi\r\nMessage-ID: <g@example.org>\r\n\r\n"
                     b"Dear Secretariat, Mr. John Smith, Director, will attend.\r\n")
    garbage = tmp_path / "garbage.eml"
    garbage.write_bytes(bytes(range(256)) * 20)
    missing = tmp_path / "missing.eml"
    out = run(["parse", "--json", str(good), str(missing), str(garbage)], tmp_path)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(ln) for ln in out.stdout.splitlines()]
    assert [Path(o["file"]).name for o in lines] == ["good.eml", "missing.eml", "garbage.eml"]
    for o in lines:
        for key in ("intent", "language", "organization", "representatives", "withdrawn", "should_reply",
                    "needs_review", "flags"):
            assert key in o, (key, o)
    assert lines[1]["flags"][0]["code"] == "parse_error"
    assert lines[1]["needs_review"] is True
    assert not (tmp_path / "intake-data").exists(), "parse must not create a database"


def test_bad_config_names_the_key(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[replies]\nmax_per_address_per_day = 0\n")
    out = run(["run", "--once", "--config", str(cfg)], tmp_path)
    assert out.returncode != 0
    assert "replies.max_per_address_per_day" in out.stderr


def test_every_command_has_help_with_an_example() -> None:
    import click

    def leaves(group: click.Group, prefix: str) -> list[tuple[str, click.Command]]:
        out: list[tuple[str, click.Command]] = []
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                out += leaves(command, f"{prefix} {name}")
            else:
                out.append((f"{prefix} {name}", command))
        return out

    commands = leaves(cli.main, "intake")
    assert len(commands) >= 5
    for name, command in commands:
        assert command.help and "Example" in command.help, f"`{name}` lacks help with an example"


def test_every_command_is_in_the_readme() -> None:
    """The README is the user's first page: a command it does not mention is a command nobody finds."""
    import click

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")

    def names(group: click.Group, prefix: str) -> list[str]:
        out: list[str] = []
        for name, command in group.commands.items():
            full = f"{prefix} {name}"
            out += names(command, full) if isinstance(command, click.Group) else [full]
        return out

    missing = [n for n in names(cli.main, "intake") if n not in readme]
    assert not missing, f"not in README.md: {missing}"


def test_parse_with_a_config_reads_with_that_meeting(tmp_path: Path) -> None:
    """`intake parse --config` gives the parser the config's meeting (its words and deadline); without it,
    the embedded 7MSP meeting."""
    config = tmp_path / "ccw.toml"
    config.write_text('[meeting]\nname = "Fifth Review Conference of the CCW"\nshort_name = "CCW RevCon5"\n'
                      'secretariat_name = "CCW Secretariat"\nsecretariat_address = "ccw@unog.ch"\n'
                      'start = 2016-12-12\nend = 2016-12-16\ndeadline = 2016-11-25\n', encoding="utf-8")
    mail = tmp_path / "q.eml"
    mail.write_bytes(b"From: Amy Lee <amy.lee@icrc.org>\r\nTo: ccw@unog.ch\r\nSubject: Timing\r\n"
                     b"Date: Tue, 29 Nov 2016 10:00:00 +0100\r\nMessage-ID: <q@icrc.org>\r\n\r\n"
                     b"Hello,\r\nWhen does RevCon5 start on the first day?\r\nAmy\r\n")
    with_config = run(["parse", "--json", "--config", str(config), str(mail)], tmp_path)
    assert with_config.returncode == 0, with_config.stderr
    got = json.loads(with_config.stdout)
    assert got["intent"] == "question" and "late" in {f["code"] for f in got["flags"]}
    default = json.loads(run(["parse", "--json", str(mail)], tmp_path).stdout)
    assert default["evidence"]["intent"]["rules"] == "other" and "late" not in {f["code"] for f in default["flags"]}
