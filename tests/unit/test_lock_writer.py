"""condauv's TOML writers: the lock's (``Lock.to_toml``) and the pylock.toml's.

The lock keeps the layout tomlkit gave every lock so far, byte for byte: ``condauv lock`` leaves
a lock untouched when its text is unchanged, so a lock written by an earlier condauv must come
out of this writer identical. The old writer (tomlkit) is kept here as the definition of the
layout and compared on generated locks. Neither writer imports tomlkit (0.1-0.45 s per file).
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from condauv.lock import CondaPackage, Lock, PypiPackage, parse_lock
from condauv.lock.model import _HEADER

SHA = "b" * 64


def _tomlkit_layout(lock: Lock) -> str:
    """The writer condauv had before (tomlkit): the reference the new one must match."""
    import tomlkit

    environment: dict[str, Any] = {"channels": list(lock.channels), "platforms": sorted(lock.platforms)}
    if lock.system_requirements:
        table = tomlkit.inline_table()
        table.update(dict(sorted(lock.system_requirements)))
        environment["system-requirements"] = table
    body = {
        "version": lock.version,
        "content-hash": lock.content_hash,
        "environment": environment,
        "conda": [p.to_dict() for p in sorted(lock.conda, key=lambda p: (p.platform, p.name))],
        "pypi": [p.to_dict() for p in sorted(lock.pypi, key=lambda p: (p.platform, p.name))],
    }
    return _HEADER + tomlkit.dumps(body)


#: every character a string may hold, controls, quotes, backslashes and non-ASCII included
_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
_OPTIONAL = st.none() | _TEXT
_TEXTS = st.lists(_TEXT, max_size=3).map(tuple)
_PLATFORM = st.sampled_from(["linux-64", "osx-arm64", "win-64"])

_CONDA = st.builds(
    CondaPackage,
    platform=_PLATFORM,
    name=_TEXT,
    version=_TEXT,
    build=_TEXT,
    build_number=st.integers(min_value=-(2**63), max_value=2**63),
    subdir=_TEXT,
    channel=_TEXT,
    url=_TEXT,
    sha256=_TEXT,
    md5=_OPTIONAL,
    size=st.none() | st.integers(min_value=0, max_value=2**63),
    noarch=_OPTIONAL,
    depends=_TEXTS,
    constrains=_TEXTS,
    python_site_packages_path=_OPTIONAL,
    requested=_OPTIONAL,
    reason=_TEXT,
    provides=_TEXTS,
    entry=_OPTIONAL,
)
_PYPI = st.builds(
    PypiPackage,
    platform=_PLATFORM,
    name=_TEXT,
    version=_TEXT,
    url=_TEXT,
    sha256=_TEXT,
    requested=_OPTIONAL,
    reason=_TEXT,
    entry=_OPTIONAL,
    requires=_TEXTS,
)
_LOCKS = st.builds(
    Lock,
    content_hash=_TEXT,
    channels=_TEXTS,
    platforms=st.lists(_PLATFORM, max_size=3, unique=True).map(tuple),
    conda=st.lists(_CONDA, max_size=3).map(tuple),
    pypi=st.lists(_PYPI, max_size=3).map(tuple),
    system_requirements=st.dictionaries(
        st.sampled_from(["cuda", "glibc", "linux", "macos"]) | _TEXT, _TEXT, max_size=3
    ).map(lambda d: tuple(sorted(d.items()))),
)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(_LOCKS)
def test_the_text_is_the_tomlkit_layout_byte_for_byte(lock: Lock) -> None:
    text = lock.to_toml()
    assert text == _tomlkit_layout(lock)
    data = tomllib.loads(text)  # and TOML that reads back to the same values
    assert data.get("conda", []) == [
        p.to_dict() for p in sorted(lock.conda, key=lambda p: (p.platform, p.name))
    ]
    assert data.get("pypi", []) == [
        p.to_dict() for p in sorted(lock.pypi, key=lambda p: (p.platform, p.name))
    ]
    assert data["environment"].get("system-requirements", {}) == dict(lock.system_requirements)


def _real_lock() -> Lock:
    conda = CondaPackage(
        platform="linux-64",
        name="numpy",
        version="2.3.4",
        build="py311_0",
        build_number=0,
        subdir="linux-64",
        channel="file:///chan/",
        url="file:///chan/linux-64/numpy-2.3.4-py311_0.conda",
        sha256=SHA,
        size=8123456,
        depends=("python >=3.11,<3.12", "libblas >=3.9"),
        provides=("numpy==2.3.4",),
        reason='[dependencies]: a "binary" package \\ (conda)',
    )
    pypi = PypiPackage(
        platform="linux-64",
        name="requests",
        version="2.32.3",
        url="https://files.example/requests-2.32.3-py3-none-any.whl",
        sha256=SHA,
        requires=("certifi", "idna"),
    )
    return Lock(
        content_hash="sha256:x",
        channels=("file:///chan",),
        platforms=("linux-64",),
        conda=(conda,),
        pypi=(pypi,),
    )


def test_sides_without_packages_and_system_requirements_keep_their_layout() -> None:
    lock = _real_lock()
    for case in (
        lock,
        replace(lock, pypi=()),
        replace(lock, conda=()),
        replace(lock, conda=(), pypi=()),
        replace(lock, system_requirements=(("cuda", "12.4"), ("glibc", "2.28"))),
    ):
        assert case.to_toml() == _tomlkit_layout(case)
        assert parse_lock(case.to_toml()) == case
    assert (
        replace(lock, pypi=())
        .to_toml()
        .startswith(_HEADER + 'version = 1\ncontent-hash = "sha256:x"\npypi = []\n')
    )


def test_writing_a_lock_does_not_import_tomlkit() -> None:
    """tomlkit took 0.1-0.45 s per lock (N=100-500): the writer is plain string building."""
    code = (
        "import sys\n"
        "from condauv.lock import Lock\n"
        "Lock(content_hash='sha256:x', channels=('file:///c',), platforms=('linux-64',)).to_toml()\n"
        "print('tomlkit' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_writing_a_pylock_does_not_import_tomlkit() -> None:
    """The pylock.toml every installing sync writes: condauv's own writer, held byte for byte to
    tomli-w's output in tests/unit/test_pylock_writer.py."""
    code = (
        "import sys, tomllib\n"
        "from condauv.lock import PypiPackage\n"
        "from condauv.pypi.pylock import build_pylock, pylock_text\n"
        f"wheel = PypiPackage(platform='linux-64', name='six', version='1.17.0', sha256='{SHA}',\n"
        "    url='https://files.example/six-1.17.0-py2.py3-none-any.whl')\n"
        "text = pylock_text(build_pylock([([wheel], None)], environments=['sys_platform == \"linux\"']))\n"
        "data = tomllib.loads(text)\n"
        "assert data['packages'][0]['wheels'][0]['hashes'] == {'sha256': wheel.sha256}, text\n"
        "assert data['environments'] == ['sys_platform == \"linux\"'], text\n"
        "print('tomlkit' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
