"""The content-hash build cache (derive/cache.py) and its hook in build_set."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import derive.build
import derive.cache
import derive.compile
from derive.build import build_set
from derive.cache import BuildCache, environment_key, tree_digest
from derive.cli import main
from tests.test_build import REPO, make_set
from tests.test_build import sample as wrong_sample

FAST = REPO / "problems" / "hw4" / "flow_from_vae.yaml"  # one of the quickest shipped problems (0.2 s)


def sample(problem_id: str) -> str:
    """The shipped problem 2.2 under another id."""
    text = FAST.read_text(encoding="utf-8")
    assert text.count('id: "2.2"') == 1
    return text.replace('id: "2.2"', f'id: "{problem_id}"')

NO_OP_PROBE = """import sys
from pathlib import Path
from derive.build import build_set
report = build_set(Path(sys.argv[1]), "mini", pdf=sys.argv[2] == "pdf")
print(report.ok, report.cached, [p.name for p in report.kept], report.cache_notes,
      sorted(m for m in ("sympy", "jinja2", "pydantic", "derive.compile", "derive.engine", "derive.render")
             if m in sys.modules))
"""


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the .tex files compiled (derive.compile.compile_pdf still runs)."""
    calls: list[str] = []
    real = derive.compile.compile_pdf

    def counting(tex_path: Path, timeout: float = 120.0) -> Path:
        calls.append(tex_path.name)
        return real(tex_path, timeout)

    monkeypatch.setattr(derive.compile, "compile_pdf", counting)
    return calls


def outputs(out: Path) -> dict[str, bytes]:
    """The bytes of every output file (not the cache)."""
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


@pytest.mark.tex
def test_no_op_build_imports_no_sympy_runs_no_latex_and_keeps_the_pdf(tmp_path: Path) -> None:
    out = make_set(tmp_path, {"first": sample("1.1"), "second": sample("1.2")})
    assert build_set(tmp_path, "mini").ok
    before = outputs(out)
    pdf_stat = (out / "mini.pdf").stat()
    done = subprocess.run([sys.executable, "-c", NO_OP_PROBE, str(tmp_path), "pdf"], capture_output=True, text=True,
                          check=True, cwd=REPO)
    assert done.stdout == "True ['first', 'second'] ['mini.pdf'] [] []\n"
    assert outputs(out) == before
    assert (out / "mini.pdf").stat().st_mtime_ns == pdf_stat.st_mtime_ns


def test_no_op_build_without_pdf_imports_no_sympy(tmp_path: Path) -> None:
    make_set(tmp_path, {"first": sample("1.1")})
    assert build_set(tmp_path, "mini", pdf=False).ok
    done = subprocess.run([sys.executable, "-c", NO_OP_PROBE, str(tmp_path), "no-pdf"], capture_output=True,
                          text=True, check=True, cwd=REPO)
    assert done.stdout == "True ['first'] [] [] []\n"


@pytest.mark.tex
def test_editing_one_problem_rederives_it_alone_and_compiles_once(tmp_path: Path, compiles: list[str]) -> None:
    out = make_set(tmp_path, {"first": sample("1.1"), "second": sample("1.2")})
    assert build_set(tmp_path, "mini").ok and compiles == ["mini.tex"]
    path = tmp_path / "problems" / "mini" / "second.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('id: "1.2"', 'id: "1.3"'), encoding="utf-8")
    report = build_set(tmp_path, "mini")
    assert report.ok and report.cached == ["first"] and report.cache_notes == []
    assert [o.id for o in report.outputs] == ["1.1", "1.3"]
    assert compiles == ["mini.tex", "mini.tex"]
    assert json.loads((out / "verification.json").read_text())["problems"] == ["1.1", "1.3"]
    cached = outputs(out)
    forced = build_set(tmp_path, "mini", force=True)
    assert forced.ok and forced.cached == [] and forced.kept == [] and compiles == ["mini.tex"] * 3
    assert {k: v for k, v in outputs(out).items() if k != "mini.pdf"} == {k: v for k, v in cached.items()
                                                                           if k != "mini.pdf"}


def test_set_yaml_is_part_of_every_problem_key(tmp_path: Path) -> None:
    make_set(tmp_path, {"first": sample("1.1")})
    assert build_set(tmp_path, "mini", pdf=False).ok
    set_yaml = tmp_path / "problems" / "mini" / "set.yaml"
    set_yaml.write_text(set_yaml.read_text().replace("Mini set", "Renamed set"))
    report = build_set(tmp_path, "mini", pdf=False)
    assert report.ok and report.cached == []
    assert "Renamed set" in (tmp_path / "build" / "mini" / "mini.tex").read_text()


def _corrupt_truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


def _corrupt_payload(path: Path) -> None:
    doc = json.loads(path.read_text())
    doc["payload"]["fragment"] = doc["payload"]["fragment"] + " "
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize(("corrupt", "reason"), [(_corrupt_truncate, "is unreadable (JSONDecodeError)"),
                                                 (_corrupt_payload, "fails its checksum")])
def test_corrupt_problem_entry_is_reported_and_rebuilt(tmp_path: Path, corrupt, reason: str) -> None:
    out = make_set(tmp_path, {"first": sample("1.1"), "second": sample("1.2")})
    assert build_set(tmp_path, "mini", pdf=False).ok
    before = outputs(out)
    entry = out / ".cache" / "problem-second.json"
    corrupt(entry)
    report = build_set(tmp_path, "mini", pdf=False)
    assert report.ok and report.cached == ["first"]
    assert report.cache_notes == [f"cache entry {entry} {reason}; rebuilt"]
    assert outputs(out) == before
    again = build_set(tmp_path, "mini", pdf=False)
    assert again.cached == ["first", "second"] and again.cache_notes == []


def test_corrupt_documents_entry_is_reported_and_rendered_again(tmp_path: Path) -> None:
    out = make_set(tmp_path, {"first": sample("1.1")})
    assert build_set(tmp_path, "mini", pdf=False).ok
    before = outputs(out)
    entry = out / ".cache" / "documents.json"
    doc = json.loads(entry.read_text())
    doc["payload"]["verification"] = "{}\n"
    entry.write_text(json.dumps(doc))
    report = build_set(tmp_path, "mini", pdf=False)
    assert report.cache_notes == [f"cache entry {entry} fails its checksum; rebuilt"]
    assert outputs(out) == before


@pytest.mark.tex
def test_changed_or_truncated_pdf_is_compiled_again(tmp_path: Path, compiles: list[str]) -> None:
    out = make_set(tmp_path, {"first": sample("1.1")})
    assert build_set(tmp_path, "mini").ok
    good = (out / "mini.pdf").read_bytes()
    (out / "mini.pdf").write_bytes(good[:100])
    report = build_set(tmp_path, "mini")
    assert report.ok and report.kept == [] and report.written[-1] == out / "mini.pdf"
    assert compiles == ["mini.tex", "mini.tex"] and (out / "mini.pdf").read_bytes() == good
    assert build_set(tmp_path, "mini").kept == [out / "mini.pdf"] and len(compiles) == 2


def test_failed_problem_is_not_cached(tmp_path: Path) -> None:
    out = make_set(tmp_path, {"good": sample("1.1"), "wrong": wrong_sample("9.9", wrong=True)})
    assert not build_set(tmp_path, "mini", pdf=False).ok
    assert not (out / ".cache" / "problem-wrong.json").exists()
    report = build_set(tmp_path, "mini", pdf=False)
    assert report.cached == ["good"] and [stem for stem, _, _ in report.failed] == ["wrong"]


def test_removed_problem_entries_are_pruned(tmp_path: Path) -> None:
    out = make_set(tmp_path, {"first": sample("1.1"), "second": sample("1.2")})
    assert build_set(tmp_path, "mini", pdf=False).ok
    set_yaml = tmp_path / "problems" / "mini" / "set.yaml"
    set_yaml.write_text(set_yaml.read_text().replace("  - second\n", ""))
    assert build_set(tmp_path, "mini", pdf=False).ok
    assert sorted(p.name for p in (out / ".cache").glob("problem-*")) == ["problem-first.json"]


def test_environment_key_covers_package_templates_and_versions(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    base = environment_key()
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "a.tex.j2").write_text("x")
    monkeypatch.setattr(derive.cache, "TEMPLATES", templates)
    with_copy = environment_key()
    assert with_copy != base
    (templates / "a.tex.j2").write_text("y")
    assert environment_key() != with_copy
    package = tmp_path / "package"
    package.mkdir()
    (package / "verify.py").write_text("TOLERANCE = 1\n")
    monkeypatch.setattr(derive.cache, "PACKAGE", package)
    one = environment_key()
    (package / "verify.py").write_text("TOLERANCE = 2\n")
    assert environment_key() != one
    monkeypatch.setattr(derive.cache, "_versions", lambda: ["sympy=9.9"])
    assert environment_key() != one
    monkeypatch.setenv("SYMPY_GROUND_TYPES", "python")
    assert len({one, environment_key()}) == 2


def test_tree_digest_covers_names_and_bytes_and_skips_pycache(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("1")
    first = tree_digest(tmp_path)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.pyc").write_bytes(b"junk")
    assert tree_digest(tmp_path) == first
    (tmp_path / "a.py").rename(tmp_path / "b.py")
    assert tree_digest(tmp_path) != first


def test_forced_cache_reads_nothing(tmp_path: Path) -> None:
    make_set(tmp_path, {"first": sample("1.1")})
    out = tmp_path / "build" / "mini"
    assert build_set(tmp_path, "mini", pdf=False).ok
    forced = BuildCache(tmp_path, "mini", out, force=True)
    spec = forced.load_set()
    assert forced.problem(spec.problems[0]) is None and forced.documents(False) is None
    fresh = BuildCache(tmp_path, "mini", out)
    assert fresh.problem(fresh.load_set().problems[0]) is not None


def test_cli_force_and_cached_lines(tmp_path: Path) -> None:
    make_set(tmp_path, {"first": sample("1.1")})
    runner = CliRunner()
    first = runner.invoke(main, ["--root", str(tmp_path), "build", "mini", "--no-pdf"])
    assert first.exit_code == 0 and not first.output.splitlines()[0].endswith("cached")
    again = runner.invoke(main, ["--root", str(tmp_path), "build", "mini", "--no-pdf"])
    assert again.exit_code == 0
    assert again.output.splitlines()[0] == ("ok   1.1 The change-of-variables formula as a special case of (2.1)  "
                                            "(11 steps: 11 symbolic, 0 instance, 0 numeric)  cached")
    forced = runner.invoke(main, ["--root", str(tmp_path), "build", "mini", "--no-pdf", "--force"])
    assert forced.exit_code == 0 and not forced.output.splitlines()[0].endswith("cached")
    (tmp_path / "build" / "mini" / ".cache" / "problem-first.json").write_text("{")
    noted = runner.invoke(main, ["--root", str(tmp_path), "build", "mini", "--no-pdf"])
    entry = tmp_path / "build" / "mini" / ".cache" / "problem-first.json"
    assert noted.output.splitlines()[0] == f"note: cache entry {entry} is unreadable (JSONDecodeError); rebuilt"


def test_durations_order_a_forced_build_and_a_corrupt_record_is_reported(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    out = make_set(tmp_path, {"first": sample("1.1"), "second": sample("1.2")})
    assert build_set(tmp_path, "mini", pdf=False).ok
    record = out / ".cache" / "durations.json"
    seconds = json.loads(record.read_text())["payload"]
    assert sorted(seconds) == ["first", "second"] and all(s > 0 for s in seconds.values())
    orders: list[list[str]] = []
    real = derive.build.run_pool

    def recording(tasks, *args):
        orders.append([ref.stem for _, ref in tasks])
        return real(tasks, *args)

    monkeypatch.setattr(derive.build, "run_pool", recording)
    cache = BuildCache(tmp_path, "mini", out)
    cache.store_durations({"first": 1.0, "second": 7.0})
    assert build_set(tmp_path, "mini", pdf=False, force=True).ok  # read even when forced
    record.write_text("{")
    report = build_set(tmp_path, "mini", pdf=False, force=True)
    assert report.ok and report.cache_notes == [f"cache entry {record} is unreadable (JSONDecodeError); rebuilt"]
    assert orders == [["second", "first"], ["first", "second"]]  # equal sizes without a record: the set's order
    assert sorted(json.loads(record.read_text())["payload"]) == ["first", "second"]
