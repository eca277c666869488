"""Where the project's files are: the repository root holds sql/, limits.yaml and .pgdata/."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = PROJECT_ROOT / "sql"
DEFAULT_LIMITS_FILE = PROJECT_ROOT / "limits.yaml"
EMBEDDED_DATA_DIR = PROJECT_ROOT / ".pgdata"
DEFAULT_NOTIFICATIONS_FILE = PROJECT_ROOT / "notifications.yaml"
