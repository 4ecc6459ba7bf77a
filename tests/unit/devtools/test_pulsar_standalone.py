"""`devtools.pulsar_standalone`: what `start` checks before it launches a broker (no broker started here)."""

from __future__ import annotations

import shutil

import pytest

from devtools import pulsar_standalone
from devtools.pulsar_standalone import Broker, BrokerError, claim_data_dir


def test_data_recorded_at_another_location_are_refused_naming_the_fix(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(pulsar_standalone, "CACHE", tmp_path / "checkout" / ".cache" / "pulsar")
    broker = Broker(name="moved")
    broker.home.mkdir(parents=True)
    claim_data_dir(broker)
    claim_data_dir(broker)  # the same place again: accepted

    shutil.move(tmp_path / "checkout", tmp_path / "copy")
    monkeypatch.setattr(pulsar_standalone, "CACHE", tmp_path / "copy" / ".cache" / "pulsar")
    with pytest.raises(BrokerError, match=r"written at .*/checkout/.*broker wipe --name moved"):
        claim_data_dir(broker)
