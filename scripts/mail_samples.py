"""One sample of every kind of mail we send, in every language, as the real renderer writes it.

    python scripts/mail_samples.py                     # prints them
    python scripts/mail_samples.py samples.txt         # writes them to a file

Each answer is composed by ``replies.answers.compose_answer`` (the daemon's own composer: the template in the
message's language, the greeting of ``replies.addressing``, the meeting's texts in that language, the subject),
each reminder and digest is rendered by ``replies.render.render_mail`` as ``intake.deadline`` and
``intake.digest`` do, with the embedded default config's meeting. For a native-quality read of the templates
without running the daemon.
"""
from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from intake.config import Config
from parsers.lexicon import LANGUAGES
from replies.answers import ReplyTarget, compose_answer
from replies.policy import Incoming
from replies.render import KINDS, render_mail

# A sender per language, with the people its registration recorded (the first is the sender: greeted by name).
SENDERS = {
    "en": ("Human Rights Watch", "Mary Wareham", "Registration 7MSP CCM", [
        {"honorific": "Ms.", "name": "Mary Wareham", "function": "Advocacy Director", "email": "warehm@hrw.org",
         "head_of_delegation": 1},
        {"honorific": "Mr.", "name": "Stephen Goose", "function": "Executive Director", "email": "gooses@hrw.org",
         "head_of_delegation": 0}]),
    "fr": ("Organisation internationale de la Francophonie", "Claire Martin", "Inscription 7e Assemblée", [
        {"honorific": "Mme", "name": "Claire Martin", "function": "Conseillère juridique",
         "email": "claire.martin@francophonie.org", "head_of_delegation": 1},
        {"honorific": "M.", "name": "Jean Dupont", "function": "Attaché", "email": None, "head_of_delegation": 0}]),
    "es": ("Fundación Paz y Desarme", "Lucía Pérez", "Inscripción 7ª Reunión", [
        {"honorific": "Sra.", "name": "Lucía Pérez", "function": "Coordinadora", "email": "l.perez@pazydesarme.org",
         "head_of_delegation": 1},
        {"honorific": "Sr.", "name": "Juan Gómez", "function": "Asesor", "email": None, "head_of_delegation": 0}]),
}

# Who a correction adds in place of the second person.
NEWCOMERS = {
    "en": {"honorific": "Ms.", "name": "Anne Rowe", "function": "Arms Researcher", "email": "rowea@hrw.org",
           "head_of_delegation": 0},
    "fr": {"honorific": "Mme", "name": "Anne Roux", "function": "Attachée", "email": "anne.roux@francophonie.org",
           "head_of_delegation": 0},
    "es": {"honorific": "Sra.", "name": "Ana Ruiz", "function": "Asesora", "email": "a.ruiz@pazydesarme.org",
           "head_of_delegation": 0},
}


def samples() -> str:
    meeting = Config().meeting
    out: list[str] = []
    for kind in KINDS:
        for language in LANGUAGES:
            org, sender, subject, people = SENDERS[language]
            head, other = people
            target = ReplyTarget(Incoming(f"{sender.split()[0].lower()}@example.org"), sender, subject,
                                 f"{kind}-{language}@example.org", (), language)
            newcomer = NEWCOMERS[language]
            context = {
                "representatives": people, "late": False, "reviewed_by_person": False, "intent": "registration",
                "added": [newcomer], "updated": [], "withdrawn": [other], "current": [head, newcomer],
                "reason": "attachment_only", "attachments": ["delegation.pdf"],
            }
            if kind == "reminder":
                mail = render_mail(kind, language, {"meeting": meeting, "organization": org, "days_left": 7})
                subject_line, text = mail.subject, mail.text
            elif kind == "digest":
                items = [{"received": datetime(2017, 8, 10, 9, 5 + 10 * i), "subject": f"{subject} ({i + 1})",
                          "late": False, "nobody": False, "changes": [("recorded", p)]} for i, p in enumerate(people)]
                mail = render_mail(kind, language, {"meeting": meeting, "addressee": None, "items": items,
                                                    "delegations": [{"organization": org, "people": people}]})
                subject_line, text = mail.subject, mail.text
            else:
                composed = compose_answer(kind, target, to_addr=target.incoming.from_addr or "", purpose=kind,
                                          meeting=meeting, organization=org, context=context, known=people)
                subject_line, text = composed.subject, composed.text
            out.append(f"{'=' * 100}\n{kind} [{language}]\nSubject: {subject_line}\n{'-' * 100}\n{text.rstrip()}\n")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    text = samples()
    if argv:
        Path(argv[0]).write_text(text, encoding="utf-8")
        print(f"{argv[0]}: {text.count('=' * 100)} samples")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
