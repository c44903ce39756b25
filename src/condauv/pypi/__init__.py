"""The PyPI side: uv, always told what conda already owns."""
