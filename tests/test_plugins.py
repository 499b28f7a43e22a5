from importlib.metadata import EntryPoint

from engine import plugins


def test_builtin_plugins_and_entry_points_are_loaded(monkeypatch) -> None:
    monkeypatch.setattr(plugins, "_loaded", None)
    monkeypatch.setattr(
        plugins,
        "entry_points",
        lambda group: (
            [EntryPoint("sample", "tests.sample_plugin", group)] if group == plugins.ENTRY_POINT_GROUP else []
        ),
    )
    loaded = plugins.load_plugins()
    assert loaded[-1] == "tests.sample_plugin"
    from engine.actions import registry

    assert "sample.echo" in registry
    assert plugins.load_plugins() == loaded  # once per process
