"""Documents the CLI writes for people (reports, charts): rendering, kept in ``cli/``."""
