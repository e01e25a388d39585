"""The layering of docs/architecture.md, checked on the source: which modules may import what."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "kechuang"

# layer -> kechuang subpackages it must not import
FORBIDDEN_INTERNAL = {
    "core": {"data", "rules", "kernels", "engines", "strategies", "analytics", "reports", "api",
             "cli", "web"},
    "rules": {"data", "kernels", "engines", "strategies", "analytics", "reports", "api", "cli",
              "web"},
    "kernels": {"data", "rules", "engines", "strategies", "analytics", "reports", "api", "cli",
                "web"},
    "data": {"kernels", "engines", "strategies", "analytics", "reports", "api", "cli", "web"},
    "engines": {"analytics", "reports", "api", "cli", "web"},
    "strategies": {"analytics", "reports", "api", "cli", "web"},
    "analytics": {"api", "cli", "web"},
    "api": {"cli", "web"},
    "reports": {"api", "cli", "web"},
}
FORBIDDEN_EXTERNAL = {
    "core": {"pandas", "duckdb", "numba", "exchange_calendars"},
    "rules": {"pandas", "duckdb", "exchange_calendars", "pyarrow"},
    "kernels": {"pandas", "duckdb", "exchange_calendars", "pyarrow"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(layer: str) -> list[Path]:
    return sorted((SRC / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN_INTERNAL))
def test_layer_imports_only_downward(layer: str) -> None:
    bad = []
    for path in _modules(layer):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "kechuang" and len(parts) > 1 and parts[1] in FORBIDDEN_INTERNAL[layer]:
                bad.append(f"{path.relative_to(SRC)} imports {name}")
            if parts[0] in FORBIDDEN_EXTERNAL.get(layer, set()):
                bad.append(f"{path.relative_to(SRC)} imports {name}")
    assert not bad, bad


def test_only_store_imports_duckdb() -> None:
    offenders = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
                 if any(n.split(".")[0] == "duckdb" for n in _imports(p))]
    assert offenders == ["data/store.py"]


def test_layer_check_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "m.py"
    bad.write_text("import pandas as pd\nfrom kechuang.data.store import Store\n")
    assert {"pandas", "kechuang.data.store"} <= _imports(bad)
