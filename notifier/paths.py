"""Where the project's non-Python files live."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def migrations_dir() -> Path:
    """The Alembic folder: beside the package in a checkout, else in the working directory."""
    beside = PROJECT_ROOT / 'migrations'
    if beside.is_dir():
        return beside
    return Path.cwd() / 'migrations'


def templates_dir(configured: Path) -> Path:
    """The template folder: as configured, else the one beside the package in a checkout."""
    if configured.is_dir() or configured.is_absolute():
        return configured
    beside = PROJECT_ROOT / configured
    return beside if beside.is_dir() else configured
