"""Behavioral analytics warehouse: the Python side of the dbt project.

The event generator, the loaders, the CLI and (later) the ML code that the
dbt Python models call.
"""

__version__ = "0.1.0"
