"""condauv's built-in classification knowledge, read from the versioned ``data/knowledge.toml``."""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

from packaging.utils import canonicalize_name

__all__ = ["Knowledge", "knowledge"]


@dataclass(frozen=True, slots=True)
class Knowledge:
    version: int
    conda_to_pypi: dict[str, tuple[str, ...]]
    pypi_to_conda: dict[str, str]
    conda_preferred: dict[str, str]  # glob on the conda name -> why
    pypi_preferred: dict[str, str]
    pypi_placeholders: dict[str, str]  # placeholder -> the real PyPI name

    def pypi_names_for(self, conda_name: str) -> tuple[str, ...]:
        """The PyPI distributions a conda package is expected to provide (first guess)."""
        return self.conda_to_pypi.get(conda_name, (canonicalize_name(conda_name),))

    def conda_name_for(self, name: str) -> str:
        """The conda spelling of a name written in either ecosystem's spelling."""
        key = canonicalize_name(name)
        return self.pypi_to_conda.get(key, key)

    def conda_reason(self, conda_name: str) -> str | None:
        """Why the field puts this package on the conda side, if it does."""
        for pattern, why in self.conda_preferred.items():
            if fnmatch.fnmatchcase(conda_name, pattern):
                return why
        return None

    def pypi_reason(self, name: str) -> str | None:
        return self.pypi_preferred.get(canonicalize_name(name))

    def merged(self, names: Mapping[str, tuple[str, ...]]) -> Knowledge:
        """This knowledge with a manifest's ``[names]`` on top (the user's word wins)."""
        if not names:
            return self
        reverse = {pypi: conda for conda, provided in names.items() for pypi in provided if pypi != conda}
        return dataclasses.replace(
            self,
            conda_to_pypi={**self.conda_to_pypi, **names},
            pypi_to_conda={**self.pypi_to_conda, **reverse},
        )

    def placeholder_for(self, name: str) -> str | None:
        """The real PyPI name when ``name`` is a placeholder of another ecosystem's package."""
        return self.pypi_placeholders.get(canonicalize_name(name))


def knowledge(names: Mapping[str, tuple[str, ...]] | None = None) -> Knowledge:
    """The built-in knowledge, with a manifest's ``[names]`` overrides when given."""
    return _builtin().merged(names) if names else _builtin()


@functools.cache
def _builtin() -> Knowledge:
    text = resources.files("condauv.classification").joinpath("data/knowledge.toml").read_text("utf-8")
    raw = tomllib.loads(text)
    return Knowledge(
        version=int(raw["version"]),
        conda_to_pypi={k: tuple(canonicalize_name(n) for n in v) for k, v in raw["conda-to-pypi"].items()},
        pypi_to_conda={canonicalize_name(k): v for k, v in raw["pypi-to-conda"].items()},
        conda_preferred=dict(raw["conda-preferred"]),
        pypi_preferred={canonicalize_name(k): v for k, v in raw["pypi-preferred"].items()},
        pypi_placeholders={canonicalize_name(k): v for k, v in raw["pypi-placeholders"].items()},
    )
