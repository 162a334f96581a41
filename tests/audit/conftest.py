"""Fixtures of these tests: cheap argon2 (the tests are about the register, not password strength)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from bihuan.core import auth


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Still argon2id, at the smallest cost, so that a login takes milliseconds, not a third of a second."""
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
