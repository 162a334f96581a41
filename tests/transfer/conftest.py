"""Shared fixtures of the transfer tests: the default profile and the small transfer world."""

from __future__ import annotations

import pytest
from tests.transfer.factories import TransferWorld, make_transfer_world

from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.protocol import ProtocolProfile, load_profile


@pytest.fixture
def profile() -> ProtocolProfile:
    return load_profile("cn-8th-2021")


@pytest.fixture
def world(database: Database, clock: SimulatedClock) -> TransferWorld:
    return make_transfer_world(database, clock)
