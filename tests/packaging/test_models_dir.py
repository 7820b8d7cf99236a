"""Model files not shipped inside an installed package are looked up in one place: `$HMTOCR_MODELS_DIR`, else
the user's data folder; never inside the code, so a wheel finds what `hmtocr models install` put there."""

from __future__ import annotations

import ast
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import models.registry as registry


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    registry.resolve_model_path.cache_clear()
    yield
    registry.resolve_model_path.cache_clear()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"HMTOCR_MODELS_DIR": "/srv/models", "XDG_DATA_HOME": "/data"}, Path("/srv/models")),
        ({"XDG_DATA_HOME": "/data"}, Path("/data/hmtocr/models")),
        ({"HOME": "/home/ocr"}, Path("/home/ocr/.local/share/hmtocr/models")),
        ({"HMTOCR_MODELS_DIR": "", "XDG_DATA_HOME": "", "HOME": "/u"}, Path("/u/.local/share/hmtocr/models")),
    ],
)
def test_models_dir(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: Path) -> None:
    for name in ("HMTOCR_MODELS_DIR", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert registry.models_dir() == expected


def test_a_missing_file_names_the_folder_and_the_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HMTOCR_MODELS_DIR", str(tmp_path))
    with pytest.raises(registry.ModelFileError) as caught:
        registry.resolve_model_path("face_short_range")
    assert str(tmp_path) in str(caught.value)
    assert "hmtocr models install" in str(caught.value)


def test_installed_files_are_found_in_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        installed = registry.resolve_model_path("place_names")
    except registry.ModelFileError:
        pytest.skip("models not installed here")
    shutil.copy(installed, tmp_path / installed.name)
    registry.resolve_model_path.cache_clear()
    monkeypatch.setenv("HMTOCR_MODELS_DIR", str(tmp_path))
    assert registry.resolve_model_path("place_names") == tmp_path / installed.name


def test_models_holds_no_builder() -> None:
    # models/ is the manifest and the registry; what builds files (and imports the engine) lives in modelkit
    package = Path(registry.__file__).parent
    assert sorted(p.name for p in package.glob("*.py")) == ["__init__.py", "registry.py"]


def _imported_packages(folder: Path) -> set[str]:
    names: set[str] = set()
    for source in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


def test_no_cycle_between_the_engine_and_the_models() -> None:
    # models/ is read by the engine; the builders (modelkit) read both; nothing reads the builders back
    root = Path(registry.__file__).parents[1]
    assert _imported_packages(root / "models").isdisjoint({"engine", "api", "benchmarks", "modelkit"})
    for package in ("engine", "api", "benchmarks"):  # the CLI names `modelkit.cli` only as a string, loaded lazily
        assert "modelkit" not in _imported_packages(root / package), package
