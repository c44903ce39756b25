"""The conda side: py-rattler, embedded. Solving, installing, channels, and reading prefixes."""
