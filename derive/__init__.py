"""derive: YAML problem specs -> engine-checked derivations -> LaTeX/PDF answer booklets."""

__version__ = "0.1.0"
