"""Channel names and paths as the user writes them, turned into the URLs rattler and the lock use."""

from __future__ import annotations

from pathlib import Path

from condauv.errors import UserError

__all__ = ["DEFAULT_CHANNEL_ALIAS", "channel_url"]

DEFAULT_CHANNEL_ALIAS = "https://conda.anaconda.org"


def channel_url(spec: str, root: Path, *, must_exist: bool = True) -> str:
    """``conda-forge`` -> its URL; ``./chan`` or ``/abs/chan`` -> ``file://``; URLs kept.

    A local folder must exist (a typo there is the commonest bad channel), unless only the URL
    is wanted (``must_exist=False``: to compare a lock's URLs with the manifest's channels).
    """
    spec = spec.strip().rstrip("/")
    if not spec:
        raise UserError("empty channel name", hint='use a name ("conda-forge"), a URL or a folder')
    if spec.startswith("file://"):
        folder = Path(spec.removeprefix("file://"))
        if must_exist:
            _check_local(folder, spec)
        return folder.resolve().as_uri()
    if "://" in spec:
        return spec
    if spec.startswith((".", "/", "~")):
        folder = (root / Path(spec).expanduser()).resolve()
        if must_exist:
            _check_local(folder, spec)
        return folder.as_uri()
    if not all(part.replace("-", "").replace("_", "").replace(".", "").isalnum() for part in spec.split("/")):
        raise UserError(f"channel {spec!r} is not a channel name, URL or folder", hint="check the spelling")
    return f"{DEFAULT_CHANNEL_ALIAS}/{spec}"


def _check_local(folder: Path, spec: str) -> None:
    if not folder.is_dir():
        raise UserError(f"channel {spec!r}: no such folder", hint="check the path, or create the channel")
    if not any((folder / sub / "repodata.json").is_file() for sub in ("noarch", *_subdirs(folder))):
        raise UserError(
            f"channel {spec!r} has no repodata.json",
            hint="index it first (`condauv channel from-wheels` writes indexed channels)",
        )


def _subdirs(folder: Path) -> list[str]:
    return [child.name for child in folder.iterdir() if child.is_dir()]
