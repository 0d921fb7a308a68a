import pytest
import pyvirtualcam


@pytest.fixture
def backends(monkeypatch):
    """Registers fake backends only for the test (monkeypatch restores pyvirtualcam's registry after)."""

    def never(self):
        raise AssertionError("sleep_until_next_frame adds latency and must not be called")

    monkeypatch.setattr(pyvirtualcam.Camera, "sleep_until_next_frame", never)

    def register(name, clazz):
        monkeypatch.setitem(pyvirtualcam.camera.BACKENDS, name, clazz)
        return clazz

    return register
