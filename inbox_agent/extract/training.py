"""Labelled texts the intent reader learns from: JSON Lines under `rules/training/*.jsonl` (the
shipped set, or a store's own rules) plus the examples a store's agents taught (`[reading]
examples`). One object per line: subject, text (the newest text only), intent, language, role,
group (texts of one writer or template, and the translations of one scenario, share a group,
so cross-validation holds them out together), and optionally state: the context the text answers
(extract/context.py: our last reply to the writer, e.g. "kit_sent"; none when it is absent). A bad
line is a ConfigError naming the file and the line.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from inbox_agent.domain import Intent, Role
from inbox_agent.errors import ConfigError
from inbox_agent.extract.context import ReplyContext

TRAINING_FOLDER = "training"


@dataclass(frozen=True)
class TrainingExample:
    subject: str
    text: str
    intent: Intent
    role: Role
    language: str
    group: str
    taught: bool = False  # kept from a store's Teach/ folder rather than shipped
    state: ReplyContext | None = None  # our last reply the text answers, when it is known

    def to_json(self) -> str:
        data = {"subject": self.subject, "text": self.text, "intent": self.intent.value, "language": self.language,
                "role": self.role.value, "group": self.group}
        if self.state is not None:
            data["state"] = self.state.value
        return json.dumps(data, ensure_ascii=False)


def training_files(folders: Iterable[Path]) -> list[Path]:
    """Every `*.jsonl` of the given folders, in a stable order (missing folders give none)."""
    return [p for folder in folders if folder.is_dir() for p in sorted(folder.glob("*.jsonl"))]


def load_examples(files: Iterable[Path], taught: bool = False) -> list[TrainingExample]:
    """The examples of `files`, in file and line order; duplicates (same subject, text, intent,
    state) once."""
    return _examples([(path, _read(path)) for path in files], taught)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise ConfigError(str(path), "", f"cannot be read ({e})") from None


def _examples(contents: Iterable[tuple[Path, bytes]], taught: bool) -> list[TrainingExample]:
    """The examples of files already read (see `load_examples`)."""
    examples: dict[tuple[str, str, Intent, ReplyContext | None], TrainingExample] = {}
    for path, content in contents:
        try:
            lines = content.decode("utf-8").splitlines()
        except UnicodeDecodeError as e:
            raise ConfigError(str(path), "", f"cannot be read ({e})") from None
        for number, line in enumerate(lines, 1):
            if line.strip():
                example = _example(path, number, line, taught)
                examples.setdefault((example.subject, example.text, example.intent, example.state), example)
    return list(examples.values())


def _example(path: Path, number: int, line: str, taught: bool) -> TrainingExample:
    where = f"line {number}"
    try:
        data = json.loads(line)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        subject, text = str(data.get("subject") or ""), str(data["text"])
        intent, role = Intent(data["intent"]), Role(data.get("role") or Role.CUSTOMER.value)
        state = ReplyContext(data["state"]) if data.get("state") else None
    except KeyError as e:
        raise ConfigError(str(path), where, f"a training example needs {e.args[0]!r}") from None
    except ValueError as e:
        raise ConfigError(str(path), where, f"not a training example ({e})") from None
    if not (subject.strip() or text.strip()):
        raise ConfigError(str(path), where, "a training example needs a subject or a text")
    group = str(data.get("group") or f"{path.stem}:{number}")
    return TrainingExample(subject, text, intent, role, str(data.get("language") or ""), group, taught, state)


@dataclass(frozen=True)
class TrainingFiles:
    """The files a store's readers learn from, as read once: the shipped set and the agents'
    taught examples. Its digest hashes the files' bytes, so a model already cached is found without
    parsing some 20,000 texts (a second of a worker's start and ~14 MB); the texts are parsed only
    to train, from the same bytes, so a taught example added meanwhile waits for the next key."""

    shipped: tuple[tuple[Path, bytes], ...]
    taught: tuple[tuple[Path, bytes], ...]

    @classmethod
    def read(cls, shipped: Iterable[Path], taught: Iterable[Path]) -> TrainingFiles:
        return cls(tuple((p, _read(p)) for p in shipped), tuple((p, _read(p)) for p in taught))

    def examples(self) -> list[TrainingExample]:
        return [*_examples(self.shipped, taught=False), *_examples(self.taught, taught=True)]

    def digest(self) -> str:
        h = hashlib.sha256()
        for kind, contents in ((b"shipped", self.shipped), (b"taught", self.taught)):
            for path, content in contents:
                h.update(b"%s %s %d\n" % (kind, path.name.encode(), len(content)))
                h.update(content)
        return h.hexdigest()


def digest(examples: Iterable[TrainingExample]) -> str:
    """A hash of the examples' content: the model cache key (with the code version)."""
    h = hashlib.sha256()
    for e in examples:
        h.update(e.to_json().encode())
        h.update(b"\x01" if e.taught else b"\x00")
    return h.hexdigest()
