"""The lock is input too (issue 7, B7, D13, F): a hostile or broken lock is refused before anything
changes, and uv's arguments are never built from lock text. Real rattler and uv throughout."""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from condauv.__main__ import main
from condauv.errors import LockfileError
from condauv.lock.model import PypiPackage
from condauv.pypi.uv import Uv
from condauv.sync.integrity import install_locked
from tests.clirunner import CLI, chdir

pytestmark = pytest.mark.slow

ENV = Path(".condauv") / "env"


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory, conda_channel: Path, wheelhouse: Path) -> Path:
    """A project locked once (python, tiny-a and tiny-b from conda, six and tqdm from the
    wheelhouse), never synced: each test copies its manifest and lock."""
    folder = tmp_path_factory.mktemp("locked")
    with chdir(folder):
        assert main(["init", "-q", "--channel", conda_channel.as_uri()]) == 0
        with (folder / "condauv.toml").open("a") as handle:
            handle.write(f'\n[pypi-options]\nfind-links = ["{wheelhouse}"]\nno-index = true\n')
        assert main(["add", "-q", "--no-sync", "tiny-a"]) == 0
        assert main(["add", "-q", "--no-sync", "--pypi", "six==1.17.0", "tqdm"]) == 0
    return folder


@pytest.fixture
def project(locked: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "proj"
    folder.mkdir()
    for name in ("condauv.toml", "condauv.lock"):
        shutil.copy(locked / name, folder / name)
    return folder


def _edit(folder: Path, change: Callable[[str], str]) -> None:
    lock = folder / "condauv.lock"
    text = lock.read_text(encoding="utf-8")
    changed = change(text)
    assert changed != text, "the edit did not apply"
    lock.write_text(changed, encoding="utf-8")


def _entry_field(text: str, table: str, name: str, key: str) -> str:
    """The value of ``key`` in the ``[[table]]`` entry named ``name``."""
    block = re.search(
        rf'\[\[{table}\]\]\nplatform = "[^"]+"\nname = "{re.escape(name)}"\n(?:.*\n)*?\n', text + "\n"
    )
    assert block, f"no {table} entry {name}"
    found = re.search(rf'^{key} = "([^"]*)"$', block.group(0), re.M)
    assert found
    return found.group(1)


def _refused(result: object, *fragments: str) -> None:
    from tests.clirunner import RunResult

    assert isinstance(result, RunResult)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[0].startswith("error: "), result.stderr
    assert sum(line.startswith("error:") for line in lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_conda_url_into_another_folder_is_refused(cli: CLI, project: Path, tmp_path: Path) -> None:
    text = (project / "condauv.lock").read_text(encoding="utf-8")
    url = _entry_field(text, "conda", "tiny-b", "url")
    # the genuine archive, same sha256, in a folder that is no channel of the manifest
    evil = tmp_path / "evil" / "noarch"
    evil.mkdir(parents=True)
    shutil.copy(url.removeprefix("file://"), evil)
    evil_url = (evil / url.rsplit("/", 1)[-1]).as_uri()
    channel = _entry_field(text, "conda", "tiny-b", "channel")
    _edit(project, lambda t: t.replace(f'url = "{url}"', f'url = "{evil_url}"'))
    # alone, the URL disagrees with the entry's channel; with it, with the manifest's channels
    _refused(cli("sync", "--frozen", cwd=project), "(tiny-b 2.0)", "is not in its channel")
    entry = f'channel = "{channel}"\nurl = "{evil_url}"'
    _edit(project, lambda t: t.replace(entry, f'channel = "{evil.parent.as_uri()}/"\nurl = "{evil_url}"'))
    result = cli("sync", "--frozen", cwd=project)
    _refused(result, "condauv.lock: conda[", "(tiny-b 2.0)", "is not in a channel of condauv.toml")
    assert not (project / ENV).exists()


def test_pypi_url_outside_the_find_links_folder_is_refused(cli: CLI, project: Path, tmp_path: Path) -> None:
    text = (project / "condauv.lock").read_text(encoding="utf-8")
    url = _entry_field(text, "pypi", "six", "url")
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(url.removeprefix("file://"), other)
    evil_url = (other / url.rsplit("/", 1)[-1]).as_uri()
    _edit(project, lambda t: t.replace(f'url = "{url}"', f'url = "{evil_url}"'))
    result = cli("sync", "--frozen", cwd=project)
    _refused(result, "condauv.lock: pypi[", "(six 1.17.0)", "is not on an index of condauv.toml")
    assert not (project / ENV).exists()


def test_pypi_url_to_another_host_is_refused(cli: CLI, project: Path) -> None:
    text = (project / "condauv.lock").read_text(encoding="utf-8")
    url = _entry_field(text, "pypi", "six", "url")
    evil_url = "https://evil.example/" + url.rsplit("/", 1)[-1]
    _edit(project, lambda t: t.replace(f'url = "{url}"', f'url = "{evil_url}"'))
    result = cli("sync", "--frozen", cwd=project)
    _refused(result, "(six 1.17.0)", f"URL {evil_url} is not on an index of condauv.toml")
    assert not (project / ENV).exists()


def test_pypi_name_with_requirement_options_is_refused(cli: CLI, project: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top-secret-line\n", encoding="utf-8")
    lock = project / "condauv.lock"
    good = lock.read_text(encoding="utf-8")
    for hostile in (f"-r {secret} #", "--index-url https://evil.example/simple #"):
        lock.write_text(re.sub(r'^name = "six"$', f'name = "{hostile}"', good, flags=re.M), encoding="utf-8")
        result = cli("sync", "--frozen", cwd=project)
        _refused(result, "pypi[", "not a valid PyPI name")
        assert "top-secret-line" not in result.stdout + result.stderr
        assert not (project / ENV).exists()


def test_conda_name_that_is_a_path_is_refused(cli: CLI, project: Path) -> None:
    _edit(project, lambda t: re.sub(r'^name = "tiny-b"$', 'name = "../../x"', t, flags=re.M))
    result = cli("sync", "--frozen", cwd=project)
    _refused(result, "conda[", "not a valid conda package name")
    assert not (project / ENV).exists()


def test_bad_url_leaves_no_half_built_environment(cli: CLI, project: Path) -> None:
    text = (project / "condauv.lock").read_text(encoding="utf-8")
    url = _entry_field(text, "pypi", "tqdm", "url")
    _edit(project, lambda t: t.replace(f'url = "{url}"', 'url = "{}"'))
    result = cli("sync", "--frozen", cwd=project)
    _refused(result, "(tqdm 4.66.5)")
    assert not (project / ENV).exists()


def test_undecodable_and_deeply_nested_locks_are_one_error_line(cli: CLI, project: Path) -> None:
    lock = project / "condauv.lock"
    good = lock.read_bytes()
    lock.write_bytes(good + b"\n# \xff\xfe not utf-8\n")
    _refused(cli("sync", "--frozen", cwd=project), "not UTF-8")
    lock.write_bytes(good + b"\ndeep = " + b"[" * 5000 + b"]" * 5000 + b"\n")
    _refused(cli("sync", "--frozen", cwd=project), "deep")
    lock.write_bytes(good)
    assert not (project / ENV).exists()


def test_hostile_locks_change_nothing_in_a_synced_prefix(cli: CLI, project: Path, tmp_path: Path) -> None:
    assert cli("sync", "--frozen", cwd=project).exit_code == 0
    prefix = project / ENV

    def tree() -> dict[str, tuple[int, int]]:
        return {
            str(p.relative_to(prefix)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(prefix.rglob("*"))
            if p.is_file() and not p.is_symlink()
        }

    before = tree()
    good = (project / "condauv.lock").read_text(encoding="utf-8")
    tqdm_url = _entry_field(good, "pypi", "tqdm", "url")
    b_url = _entry_field(good, "conda", "tiny-b", "url")
    hostile = {
        "pypi url": good.replace(
            f'url = "{tqdm_url}"', 'url = "https://evil.example/tqdm-4.66.5-py3-none-any.whl"'
        ),
        "conda url": good.replace(
            f'url = "{b_url}"', f'url = "{(tmp_path / "x" / "noarch" / b_url.rsplit("/", 1)[-1]).as_uri()}"'
        ),
        "pypi name": re.sub(r'^name = "tqdm"$', 'name = "-r /etc/passwd #"', good, flags=re.M),
        "version": good.replace('version = "4.66.5"', 'version = "4.66.5; rm -rf /"'),
    }
    for what, text in hostile.items():
        assert text != good, what
        (project / "condauv.lock").write_text(text, encoding="utf-8")
        for command in (("sync", "--frozen"), ("sync",), ("check",)):
            result = cli(*command, cwd=project)
            assert result.exit_code == 2, (what, command, result.stderr)
            assert (project / "condauv.lock").read_text(encoding="utf-8") == text, (what, command)
        assert tree() == before, what


def test_hash_mismatch_names_both_hashes_and_the_file(cli: CLI, project: Path) -> None:
    text = (project / "condauv.lock").read_text(encoding="utf-8")
    url = _entry_field(text, "pypi", "six", "url")
    genuine = _entry_field(text, "pypi", "six", "sha256")
    wrong = "0" * 64
    _edit(project, lambda t: t.replace(f'sha256 = "{genuine}"', f'sha256 = "{wrong}"'))
    result = cli("sync", "--frozen", cwd=project)
    assert result.exit_code == 2, result.stderr
    first = result.stderr.splitlines()[0]
    assert "does not match condauv.lock" in first  # a file:// wheel: hashed before anything changes
    assert wrong in first and genuine in first
    assert url.rsplit("/", 1)[-1] in first
    assert "reachable" not in result.stderr


def test_install_refuses_hostile_packages_by_itself(tmp_path: Path, wheelhouse: Path) -> None:
    """Defence in depth: even a lock that skipped validation cannot reach uv as options."""
    wheel = next(wheelhouse.glob("six-1.17.0-*.whl"))
    secret = tmp_path / "secret.txt"
    secret.write_text("top-secret-line\n", encoding="utf-8")
    python = Path(sys.executable)  # never reached: the packages are refused first
    hostile = [
        PypiPackage(
            platform="linux-64", name=f"-r {secret} #", version="1.17.0", url=wheel.as_uri(), sha256="a" * 64
        ),
        PypiPackage(
            platform="linux-64",
            name="six",
            version="1.17.0 --index-url x",
            url=wheel.as_uri(),
            sha256="a" * 64,
        ),
        PypiPackage(
            platform="linux-64",
            name="six",
            version="1.17.0",
            url=f"{wheel.as_uri()} -r {secret}",
            sha256="a" * 64,
        ),
        PypiPackage(
            platform="linux-64",
            name="six",
            version="1.17.0",
            url="${HOME}/six-1.17.0-py3-none-any.whl",
            sha256="a" * 64,
        ),
        PypiPackage(
            platform="linux-64", name="six", version="1.17.0", url=wheel.as_uri(), sha256="a" * 63 + " -r x"
        ),
    ]
    for package in hostile:
        with pytest.raises(LockfileError):
            install_locked(Uv(offline=True), python, [package])


# -- round 2 (R1): hostile locks found by attacking the CLI, each refused before the prefix exists --


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        # rattler met this spec only when linking: "unexpected InvalidMatchSpecError", exit 1,
        # after the prefix, its marker and its journal were written
        (lambda t: t.replace('requested = "*"', 'requested = ">=1 ; --index-url http://x"', 1), "requested"),
        (lambda t: t.replace('depends = ["tiny-b >=1"]', 'depends = ["tiny-b <<>>1"]'), "depends[0]"),
        # found by sync only after the conda side had been built
        (
            lambda t: t.replace('entry = "tiny-a"', 'entry = "tiny-a"\nprovides = ["six==1.17.0"]'),
            "provided by",
        ),
        # uv was handed two entries for one project ("Multiple active package entries"), exit 1
        (lambda t: re.sub(r'^name = "six"$', 'name = "Six"', t, flags=re.M), "normal form"),
    ],
)
def test_hostile_specs_and_names_are_refused_before_the_prefix_exists(
    cli: CLI, project: Path, change: Callable[[str], str], fragment: str
) -> None:
    _edit(project, change)
    for command in (("sync", "--frozen"), ("sync",)):
        _refused(cli(*command, cwd=project), "condauv.lock: ", fragment)
    assert not (project / ".condauv").exists()


def test_a_find_links_value_is_never_an_option_of_uvs(cli: CLI, project: Path) -> None:
    """``find-links = ["--index-url=http://…"]`` reached uv as its own option."""
    manifest = project / "condauv.toml"
    text = manifest.read_text(encoding="utf-8")
    lock = (project / "condauv.lock").read_text(encoding="utf-8")
    changed = re.sub(
        r"^find-links = \[.*\]$", 'find-links = ["--index-url=http://evil.example/simple"]', text, flags=re.M
    )
    assert changed != text
    manifest.write_text(changed, encoding="utf-8")
    _refused(cli("lock", cwd=project), "pypi-options.find-links[0]", "is not a URL")
    assert (project / "condauv.lock").read_text(encoding="utf-8") == lock
