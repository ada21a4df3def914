"""The registry's static catalogue: listing imports nothing, and it equals what the modules register."""

from __future__ import annotations

import subprocess
import sys

from zoo import registry


def test_catalogue_equals_what_the_modules_register():
    registered = {s.name: s for s in registry.specs()}
    for entry in registry.BUILTIN_CATALOGUE:
        spec = registered.get(entry.name)
        assert spec is not None, f"{entry.name} is catalogued but {entry.module} does not register it"
        assert (spec.task, spec.kind, spec.default_recipe) == (entry.task, entry.kind, entry.default_recipe)
        assert spec.cls.__module__.startswith(entry.module), (entry.name, spec.cls.__module__)
    builtin_modules = tuple(registry._BUILTIN_MODULES)
    uncatalogued = [n for n, s in registered.items()
                    if s.cls.__module__.startswith(builtin_modules) and n not in registry._BUILTIN_BY_NAME]
    assert not uncatalogued, f"registered by zoo modules but missing from BUILTIN_CATALOGUE: {uncatalogued}"
    assert [s.name for s in registry.specs()][: len(registry.BUILTIN_CATALOGUE)] == [
        e.name for e in registry.BUILTIN_CATALOGUE]


def _imported_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_listing_imports_no_tracker_module():
    mods = _imported_after(
        "import zoo; names = zoo.list_methods(); assert 'finetrack' in names and 'csrt' in names, names\n"
        "assert zoo.list_methods('sot', kind='baseline')[0] == 'csrt'"
    )
    assert not {m for m in mods if m.startswith(("zoo.trackers", "zoo.methods"))}
    assert not {"torch", "cv2", "lightning", "timm"} & mods


def test_get_method_imports_only_its_module():
    mods = _imported_after("from zoo.registry import get_method; assert get_method('sort').task == 'mot'")
    assert "zoo.trackers.sort" in mods
    assert not {m for m in mods if m.startswith("zoo.methods")}
    assert "lightning" not in mods


def test_third_party_registration_is_listed(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))

    @registry.register("my_tracker_xyz", task="vos", kind="baseline")
    class MyTracker:
        """A user's tracker."""

    assert "my_tracker_xyz" in registry.list_methods("vos")
    assert registry.get_method("my_tracker_xyz").cls is MyTracker
    assert registry.catalogue()[-1].module == MyTracker.__module__
