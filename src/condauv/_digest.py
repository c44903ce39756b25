"""SHA-256 for the checks that run before anything else (the no-op sync's stamp, ``run``'s kept
activation): CPython's own implementation, since importing :mod:`hashlib` (OpenSSL) cost more
than a whole no-op check."""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing (see condauv/__init__.py)
if TYPE_CHECKING:
    from hashlib import sha256
else:
    try:
        from _sha256 import sha256
    except ImportError:  # another interpreter, or Python 3.12+ (where it is _sha2)
        from hashlib import sha256

__all__ = ["sha256"]
