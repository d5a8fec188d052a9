"""The one version string (the package root and saved models read it from here)."""

__version__ = "0.1.0"
