"""The first classification policy: the seed's two lists, then "conda if a channel has it".

Callers only use :func:`decide`; a richer classifier replaces its body, not its signature.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from condauv.classification.names import conda_name_for
from condauv.manifest.model import Requested

__all__ = ["SEED_CONDA", "SEED_PYPI", "Decision", "Manager", "decide", "seed_manager"]

Manager = Literal["conda", "pypi"]

#: The strategy document's "Conda packages (system dependencies)" list (conda names).
SEED_CONDA = frozenset(
    {
        "pytorch",
        "torchvision",
        "torchaudio",
        "pytorch-cuda",
        "numpy",
        "scipy",
        "pandas",
        "opencv",
        "pillow",
        "matplotlib",
        "seaborn",
        "jupyter",
        "ipykernel",
        "cudatoolkit",
        "cudnn",
    }
)

#: The strategy document's "uv packages (pure Python)" list, plus its install examples.
SEED_PYPI = frozenset(
    {
        "transformers",
        "datasets",
        "accelerate",
        "diffusers",
        "tokenizers",
        "scikit-learn",
        "xgboost",
        "lightgbm",
        "optuna",
        "wandb",
        "fastapi",
        "uvicorn",
        "requests",
        "httpx",
        "black",
        "isort",
        "flake8",
        "pytest",
        "ipywidgets",
        "tqdm",
        "rich",
        "click",
        "typer",
        "openai",
        "anthropic",
        "langchain",
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """Where one requested package goes, under which name, and the reason in words."""

    name: str  # the name the chosen manager knows it by
    manager: Manager
    reason: str


def seed_manager(name: str) -> Manager | None:
    """The manager the seed's lists name for ``name`` (either spelling), if they name one."""
    conda_name = conda_name_for(name)
    if conda_name in SEED_CONDA:
        return "conda"
    if conda_name in SEED_PYPI or name.lower() in SEED_PYPI:
        return "pypi"
    return None


def decide(entry: Requested, *, in_channels: Collection[str] | None) -> Decision:
    """Decide conda or PyPI for one manifest entry.

    ``in_channels`` holds the (conda) names the configured channels have among the ones asked
    about; ``None`` means the channels were not consulted (offline), and the decision then
    rests on the lists alone.
    """
    where = f"[{entry.table}]"
    if entry.table == "conda-dependencies":
        return Decision(name=entry.name, manager="conda", reason=f"listed in {where}")
    if entry.table == "pypi-dependencies":
        return Decision(name=entry.name, manager="pypi", reason=f"listed in {where}")
    conda_name = conda_name_for(entry.name)
    seed = seed_manager(entry.name)
    if seed == "conda":
        return Decision(
            name=conda_name,
            manager="conda",
            reason=f"{where}: a binary/system package (the strategy's conda list)",
        )
    if seed == "pypi":
        return Decision(
            name=entry.name,
            manager="pypi",
            reason=f"{where}: a pure-Python package (the strategy's uv list)",
        )
    if in_channels is not None and conda_name in in_channels:
        return Decision(name=conda_name, manager="conda", reason=f"{where}: the conda channels have it")
    if in_channels is None:
        return Decision(
            name=entry.name,
            manager="pypi",
            reason=f"{where}: not in the strategy's lists; channels not consulted (offline)",
        )
    return Decision(name=entry.name, manager="pypi", reason=f"{where}: the conda channels do not have it")
