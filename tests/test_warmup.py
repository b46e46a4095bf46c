"""No cold start: the daemon loads every configured language's models before its first check; one-shot
commands say what they load, on stderr. Real subprocesses (a model, once loaded, stays loaded in a process)."""
from __future__ import annotations

import json
import mailbox
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "intake" / "samples" / "demo"


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "INTAKE_CONFIG"}


def test_parse_says_on_stderr_what_it_loads_and_keeps_stdout_to_json(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "intake.cli", "parse", "--json",
                           str(SAMPLES / "02-registration-fr.eml")], cwd=tmp_path, env=_env(), check=False,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    assert json.loads(line)["language"] == "fr"
    assert "loading the spaCy pipeline fr_core_news_sm for 'fr' ..." in done.stderr
    assert "loaded the spaCy pipeline fr_core_news_sm for 'fr' in" in done.stderr
    assert "loading the language detector" in done.stderr


def test_the_daemon_loads_every_configured_language_before_its_first_check(tmp_path: Path) -> None:
    inbox = mailbox.Maildir(str(tmp_path / "inbox"), create=True)
    inbox.add(mailbox.MaildirMessage((SAMPLES / "02-registration-fr.eml").read_bytes()))
    config = tmp_path / "config.toml"
    config.write_text(f'[meeting]\nname = "Test Meeting of States Parties"\nlanguages = ["en", "fr"]\n'
                      f'[mailbox]\nkind = "maildir"\npath = "{tmp_path / "inbox"}"\npoll_seconds = 0.5\n'
                      f'[transport]\nkind = "outbox"\npath = "{tmp_path / "outbox"}"\n'
                      f'[store]\npath = "{tmp_path / "intake.sqlite"}"\n')
    log = tmp_path / "daemon.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "intake.cli", "run", "--config", str(config)],
                                cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=err, stderr=err, env=_env())
    try:
        end = time.monotonic() + 120
        while not list((tmp_path / "outbox").glob("*.eml")):
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < end, log.read_text()
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    lines = log.read_text().splitlines()

    def first(text: str) -> int:
        found = [i for i, line in enumerate(lines) if text in line]
        assert found, f"{text!r} not in the log:\n" + "\n".join(lines)
        return found[0]

    start, ready = first("loading the parser for en, fr before the first check"), first("parser ready in")
    message = first("<demo-02@federation-deminage.example.fr> registration")
    assert start < ready < message
    assert "spaCy fr_core_news_sm 3.8.0 (fr)" in lines[ready] and "(en)" in lines[ready]
    assert "(es)" not in lines[ready]  # only the configured languages
    loads = [i for i, line in enumerate(lines) if "loading the spaCy pipeline" in line or "loading the language" in line]
    assert len(loads) == 3 and all(start < i < ready for i in loads), "a model was loaded after start-up"
