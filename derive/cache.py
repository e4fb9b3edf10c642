"""Content-hash build cache: one JSON file per entry in `<out>/.cache/` (e.g. build/hw4/.cache/).

Rules:
- Every key is a SHA-256 over everything the cached result depends on. The environment part
  (`environment_key`) covers the bytes of every file of the `derive` package (so derive's
  version and the verifier's settings), the templates, the Python version and the versions of
  SymPy, mpmath, Jinja2, ruamel.yaml, gmpy2 and python-flint, and SYMPY_GROUND_TYPES.
- A problem's key adds the set name, the problem's path, set.yaml's bytes and the problem
  file's bytes; nothing of the other problems, so editing one problem re-derives only it.
  Only problems that derived without error are stored.
- The set entry (title, course, problems with id and title) is keyed by set.yaml and every
  `*.yaml` of the set's folder, so an unchanged set is loaded without parsing YAML.
- The documents entry (booklet, question sheet and verification.json texts) is keyed by the
  set entry's and every problem's key and whether the question sheet was asked for; it lets a
  build in which nothing changed skip rendering, so SymPy is never imported.
- A PDF record holds the SHA-256 of the .tex it was compiled from and of the PDF itself (and
  SOURCE_DATE_EPOCH); the PDF is kept, and LaTeX not run, only when all three still match.
- Each entry stores its key, its payload and a SHA-256 checksum of both. An entry that cannot
  be read, is not JSON of that shape or fails its checksum is reported in `notes` and treated
  as missing (then rewritten); an entry whose key differs is stale and silently replaced.
- The durations entry holds each problem's derivation time in the last build that derived it;
  it only orders the work (derive/build.py `longest_first`) and never reaches an output, so it
  is read even with `force`.
- With `force`, no other entry is read; entries are still written for the next build.
- Entries are written atomically (temp file, then rename). Never imports SymPy or Jinja2.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from derive.spec import ProblemRef, SetSpec

FORMAT = 2  # 2: a set entry's problems carry their chapter
CACHE_DIR = ".cache"
PACKAGE = Path(__file__).resolve().parent
TEMPLATES = PACKAGE.parent / "templates"
DURATIONS = "durations: scheduling hints only"  # the durations entry's fixed key
VERSIONED = ("sympy", "mpmath", "jinja2", "ruamel.yaml", "gmpy2", "python-flint")


def _sha(*parts: bytes | str) -> str:
    """SHA-256 (hex) of the parts, each length-prefixed so that no two sequences collide."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def tree_digest(folder: Path) -> str:
    """SHA-256 over the relative paths and bytes of every file below `folder` (no __pycache__)."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return _sha(*(item for p in files for item in (p.relative_to(folder).as_posix(), p.read_bytes())))


def _versions() -> list[str]:
    """`name=version` of each library in VERSIONED (`name=-` when not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for name in VERSIONED:
        try:
            out.append(f"{name}={version(name)}")
        except PackageNotFoundError:
            out.append(f"{name}=-")
    return out


def environment_key() -> str:
    """The part of every key that does not depend on the problem set (see the module rules)."""
    return _sha(f"format {FORMAT}", sys.version, *_versions(), os.environ.get("SYMPY_GROUND_TYPES", ""),
                tree_digest(PACKAGE), tree_digest(TEMPLATES))


class BuildCache:
    """The cache of one output folder; `notes` collects the reports of corrupt entries."""

    def __init__(self, root: Path, name: str, out_dir: Path, *, force: bool = False):
        self.root, self.name, self.force = root, name, force
        self.folder = out_dir / CACHE_DIR
        self.notes: list[str] = []
        self._env = environment_key()
        self._set_dir = root / "problems" / name
        self._set_key = ""
        self._problem_keys: dict[str, str] = {}
        self._pending_set: dict[str, Any] | None = None
        self._durations: dict[str, float] | None = None

    # --- entries ----------------------------------------------------------------------------

    def _path(self, entry: str) -> Path:
        return self.folder / f"{entry}.json"

    def _read(self, entry: str, key: str, *, hint: bool = False) -> Any | None:
        """The payload stored under `entry` for `key`, or None (missing, stale, corrupt, or
        forced unless the entry is a `hint` that never reaches an output)."""
        path = self._path(entry)
        if self.force and not hint or not path.is_file():
            return None
        try:
            doc = json.loads(path.read_bytes())
            stored_key, payload, checksum = doc["key"], doc["payload"], doc["checksum"]
            intact = checksum == _sha(stored_key, json.dumps(payload, sort_keys=True))
        except (OSError, ValueError, TypeError, KeyError) as exc:
            self.notes.append(f"cache entry {path} is unreadable ({type(exc).__name__}); rebuilt")
            return None
        if not intact:
            self.notes.append(f"cache entry {path} fails its checksum; rebuilt")
            return None
        return payload if stored_key == key else None

    def _write(self, entry: str, key: str, payload: Any) -> None:
        """Store `payload` under `entry` for `key`, atomically."""
        from derive.outdir import write_all

        self.folder.mkdir(parents=True, exist_ok=True)
        checksum = _sha(key, json.dumps(payload, sort_keys=True))
        write_all([(self._path(entry), json.dumps({"format": FORMAT, "key": key, "payload": payload,
                                                   "checksum": checksum}, sort_keys=True, ensure_ascii=False))])

    # --- the set ----------------------------------------------------------------------------

    def load_set(self) -> SetSpec:
        """The set as `derive.spec.load_set` returns it, from the set entry when it is current.
        Nothing is written here (the output folder is checked after the set): `store_set` does."""
        from derive.spec import ProblemRef, SetSpec, load_set

        files = sorted(p for p in self._set_dir.glob("*.yaml") if p.is_file()) if self._set_dir.is_dir() else []
        contents = {p.name: p.read_bytes() for p in files}
        self._set_key = _sha(self._env, self.name, str(self.root),
                             *(item for n, data in contents.items() for item in (n, data)))
        cached = self._read("set", self._set_key)
        if cached is not None:
            spec = SetSpec(self.name, cached["title"], cached["course"],
                           tuple(ProblemRef(stem, Path(path), pid, title, chapter)
                                 for stem, path, pid, title, chapter in cached["problems"]))
        else:
            spec = load_set(self.root, self.name)
            self._pending_set = {"title": spec.title, "course": spec.course, "problems": [
                [r.stem, str(r.path), r.id, r.title, r.chapter] for r in spec.problems]}
        setup = contents.get("set.yaml", b"")
        self._problem_keys = {r.stem: _sha(self._env, self.name, str(r.path), setup,
                                           contents.get(r.path.name, b"")) for r in spec.problems}
        return spec

    def store_set(self) -> None:
        """Write the set entry that `load_set` parsed, if it parsed one."""
        if self._pending_set is not None:
            self._write("set", self._set_key, self._pending_set)
            self._pending_set = None

    # --- problems ---------------------------------------------------------------------------

    def problem(self, ref: ProblemRef) -> dict[str, Any] | None:
        """The stored output fields of a problem (see `store_problem`), or None."""
        return self._read(f"problem-{ref.stem}", self._problem_keys[ref.stem])

    def store_problem(self, ref: ProblemRef, fields: dict[str, Any]) -> None:
        """Store a successfully derived problem's output fields (plain JSON data)."""
        self._write(f"problem-{ref.stem}", self._problem_keys[ref.stem], fields)

    def prune(self, stems: list[str]) -> None:
        """Remove problem entries of problems no longer in the set."""
        for path in self.folder.glob("problem-*.json"):
            if path.stem.removeprefix("problem-") not in stems:
                path.unlink(missing_ok=True)

    # --- scheduling -------------------------------------------------------------------------

    def durations(self) -> dict[str, float]:
        """Seconds each problem took in the last build that derived it (see the module rules),
        read once."""
        if self._durations is None:
            payload = self._read("durations", DURATIONS, hint=True)
            self._durations = {stem: float(s) for stem, s in payload.items() if isinstance(s, (int, float))
                               and s >= 0} if isinstance(payload, dict) else {}
        return self._durations

    def store_durations(self, seconds: dict[str, float]) -> None:
        """Record `seconds` (stem -> derivation time) over the times already recorded."""
        if seconds:
            self._durations = {**self.durations(), **{k: round(v, 3) for k, v in seconds.items()}}
            self._write("durations", DURATIONS, self._durations)

    # --- documents --------------------------------------------------------------------------

    def _documents_key(self, questions: bool) -> tuple[str, str]:
        entry = "documents-questions" if questions else "documents"
        return entry, _sha(self._set_key, entry, *self._problem_keys.values())

    def documents(self, questions: bool) -> tuple[list[tuple[str, str]], str] | None:
        """The stored (stem, tex) documents and verification.json text, or None."""
        payload = self._read(*self._documents_key(questions))
        if payload is None:
            return None
        return [(stem, tex) for stem, tex in payload["documents"]], payload["verification"]

    def store_documents(self, questions: bool, documents: list[tuple[str, str]], verification: str) -> None:
        """Store the documents of a build in which every problem succeeded."""
        entry, key = self._documents_key(questions)
        self._write(entry, key, {"documents": [list(d) for d in documents], "verification": verification})

    # --- PDFs -------------------------------------------------------------------------------

    def _pdf_key(self, tex: str) -> str:
        return _sha(tex, os.environ.get("SOURCE_DATE_EPOCH", ""))

    def pdf_current(self, stem: str, tex: str, pdf: Path) -> bool:
        """True when `pdf` was compiled from exactly `tex` and is unchanged since."""
        recorded = self._read(f"pdf-{stem}", self._pdf_key(tex))
        return recorded is not None and pdf.is_file() and recorded == _sha(pdf.read_bytes())

    def store_pdf(self, stem: str, tex: str, pdf: Path) -> None:
        """Record that `pdf` was compiled from `tex`."""
        self._write(f"pdf-{stem}", self._pdf_key(tex), _sha(pdf.read_bytes()))

