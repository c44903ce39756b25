"""Health of an environment: ``check`` (conflicts and damage) and ``doctor`` (what works at run time)."""
