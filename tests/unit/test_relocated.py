"""Which first lines of a relocated console script ``check`` accepts: conda-pack's
``#!/usr/bin/env python`` and uv's own ``#!<prefix>/bin/python`` with the prefix the copy now
lies at; nothing else, and never a change below the first line."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from condauv.health.dists import record_digest
from condauv.health.relocated import relocated_script

BODY = b"# -*- coding: utf-8 -*-\nimport sys\nfrom scripted import main\nsys.exit(main())\n"


def _record(original: Path) -> tuple[str, int]:
    """The RECORD entry (digest, size) of the script as uv wrote it at ``original``."""
    wrote = b"#!" + bytes(original / "bin" / "python") + b"\n" + BODY
    return record_digest(hashlib.sha256(wrote).digest()), len(wrote)


@pytest.mark.parametrize(
    ("first", "accepted"),
    [
        (b"#!/usr/bin/env python", True),  # conda-pack
        (b"#!{prefix}/bin/python", True),  # uv's form, the prefix moved (conda-unpack, --dest-prefix)
        (b"#!{original}/bin/python", True),  # as uv wrote it: the RECORD's own bytes
        (b"#!/tmp/evil-python", False),
        (b"#!/tmp/evil/bin/python", False),
        (b"#!/usr/bin/env evil-python", False),
        (b"#!/usr/bin/env python -c 'import evil'", False),
        (b"#!/usr/bin/env  python", False),
        (b"#! /usr/bin/env python", False),
        (b"#!{prefix}/../evil/bin/python", False),
        (b"#!{prefix}/bin/python-evil", False),
        (b"#!/bin/sh", False),
        (b"python", False),
    ],
)
def test_only_the_shebangs_a_relocation_writes(tmp_path: Path, first: bytes, accepted: bool) -> None:
    original = tmp_path / "old" / "env"
    prefix = tmp_path / "new" / "env"
    (prefix / "bin").mkdir(parents=True)
    script = prefix / "bin" / "scripted"
    line = first.replace(b"{prefix}", bytes(prefix)).replace(b"{original}", bytes(original))
    script.write_bytes(line + b"\n" + BODY)
    digest, size = _record(original)
    assert relocated_script(str(script), digest, size, original, prefix) is accepted


def test_a_changed_body_is_never_accepted(tmp_path: Path) -> None:
    original, prefix = tmp_path / "old", tmp_path / "new"
    (prefix / "bin").mkdir(parents=True)
    script = prefix / "bin" / "scripted"
    script.write_bytes(b"#!/usr/bin/env python\n" + BODY.replace(b"main()", b"evil()"))
    digest, size = _record(original)
    assert not relocated_script(str(script), digest, size, original, prefix)
    # the sha256 alone decides when RECORD gives no size
    assert not relocated_script(str(script), digest, None, original, prefix)


def test_a_hex_digest_is_read_too(tmp_path: Path) -> None:
    original, prefix = tmp_path / "old", tmp_path / "new"
    (prefix / "bin").mkdir(parents=True)
    script = prefix / "bin" / "scripted"
    script.write_bytes(b"#!/usr/bin/env python\n" + BODY)
    wrote = b"#!" + bytes(original / "bin" / "python") + b"\n" + BODY
    assert relocated_script(str(script), hashlib.sha256(wrote).hexdigest(), None, original, prefix)


def test_a_link_or_a_missing_file_is_no_script(tmp_path: Path) -> None:
    original, prefix = tmp_path / "old", tmp_path / "new"
    (prefix / "bin").mkdir(parents=True)
    target = tmp_path / "elsewhere"
    target.write_bytes(b"#!/usr/bin/env python\n" + BODY)
    (prefix / "bin" / "scripted").symlink_to(target)
    digest, size = _record(original)
    assert not relocated_script(str(prefix / "bin" / "scripted"), digest, size, original, prefix)
    assert not relocated_script(str(prefix / "bin" / "missing"), digest, size, original, prefix)
