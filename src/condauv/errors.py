"""One error hierarchy: every failure condauv reports to a person derives from :class:`CondauvError`.

A :class:`UserError` is a mistake in something the user gave us (manifest, lockfile, flag,
package name, channel): the CLI prints one line and a hint and exits with 2. Anything else
is a failure of the world (network, disk, a tool that crashed) and exits with 1.
"""

from __future__ import annotations

__all__ = [
    "ArchiveError",
    "CondauvError",
    "ConflictError",
    "LockfileError",
    "ManifestError",
    "ProcessError",
    "SolveError",
    "UserError",
]


class CondauvError(Exception):
    """Root of condauv's errors: a message for a person, and a hint that says what to do."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UserError(CondauvError):
    """Bad input: a manifest, lockfile, flag, package name or channel that cannot be used."""

    exit_code = 2


class ManifestError(UserError):
    """``condauv.toml`` is missing, malformed, or holds a value that cannot be used."""


class LockfileError(UserError):
    """``condauv.lock`` is missing, malformed, stale where it must be fresh, or of an unknown version."""


class SolveError(UserError):
    """The conda side cannot be solved: unknown package, unknown channel, clashing specs."""


class ArchiveError(UserError):
    """A package archive that does not match its lock entry, or that would write outside the prefix."""

    @classmethod
    def mismatch(cls, what: str, url: str, actual: str, locked: str, *, hint: str) -> ArchiveError:
        """``what`` (``conda package numpy 2.4.6 (py311_0)``) at ``url`` hashes to ``actual``,
        not the lock's ``locked``: one wording for both sides."""
        return cls(
            f"{what} at {url} does not match condauv.lock: its sha256 is {actual}, the lock says {locked}",
            hint=hint,
        )


class ConflictError(UserError):
    """The PyPI side needs something that conflicts with what the conda side provides."""


class ProcessError(CondauvError):
    """An external program (uv, patchelf, a shell) failed; carries its command and output."""

    def __init__(
        self,
        message: str,
        *,
        command: list[str],
        returncode: int,
        stdout: str = "",
        stderr: str = "",
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.command = command
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
