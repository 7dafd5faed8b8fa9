"""checkers.core.collector_parked: the collector is off and the objects frozen while the
checks run, and afterwards everything is as it was (issue 23's speed lever must not
leave a process without its collector)."""

import gc

import pytest

from checkers.core import collector_parked


@pytest.fixture
def clean_gc():
    was = gc.isenabled()
    gc.unfreeze()
    yield
    gc.unfreeze()
    (gc.enable if was else gc.disable)()


def test_parked_inside_restored_after(clean_gc):
    gc.enable()
    with collector_parked():
        assert not gc.isenabled()
        assert gc.get_freeze_count() > 0
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_restored_after_an_exception(clean_gc):
    gc.enable()
    with pytest.raises(ValueError):
        with collector_parked():
            raise ValueError("a checker blew up")
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_disabled_collector_stays_disabled(clean_gc):
    gc.disable()
    with collector_parked():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_objects_the_process_froze_stay_frozen(clean_gc):
    gc.enable()
    gc.freeze()
    frozen = gc.get_freeze_count()
    with collector_parked():
        pass
    assert gc.get_freeze_count() >= frozen > 0
    assert gc.isenabled()
