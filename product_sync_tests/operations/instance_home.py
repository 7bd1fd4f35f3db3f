"""A Dagster instance configured by the repo's own dagster.yaml (run queue, tag limit, run
monitoring, freshness), its relative storage paths moved under a temporary home."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path
from typing import Any

import dagster as dg
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]


def repo_instance_config() -> dict[str, Any]:
    return yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())


def write_instance_yaml(home: Path, **overrides: Any) -> Path:
    """home/dagster.yaml = the repo's, storage under `home`, top-level keys in `overrides`
    replaced (e.g. a recording run launcher). Creates the stores, so a webserver and a
    daemon starting together do not both migrate an empty sqlite file."""

    def moved(value: str) -> str:
        parts = Path(value).parts
        if parts and parts[0] == ".dagster_home":
            parts = parts[1:]
        return str(home.joinpath(*parts))

    def absolute(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: moved(value)
                if key == "base_dir" and isinstance(value, str) and not Path(value).is_absolute()
                else absolute(value)
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [absolute(item) for item in node]
        return node

    config = {**absolute(repo_instance_config()), **overrides}
    home.mkdir(parents=True, exist_ok=True)
    storage = _migrated_storage()
    if not (home / "storage").exists():
        # sqlite files hold no paths: a copy of migrated ones saves a migration per test.
        shutil.copytree(storage, home / "storage")
    (home / "dagster.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    with dg.DagsterInstance.from_config(str(home)):
        pass
    return home


@functools.cache
def _migrated_storage() -> Path:
    template = Path(tempfile.mkdtemp(prefix="dagster-template-"))
    atexit.register(shutil.rmtree, template, ignore_errors=True)
    config = {"storage": {"sqlite": {"base_dir": str(template / "storage")}}}
    (template / "dagster.yaml").write_text(yaml.safe_dump(config))
    with dg.DagsterInstance.from_config(str(template)):
        pass
    return template / "storage"
