"""Shared fixtures."""

from __future__ import annotations

import pytest
from models import PingEnv


@pytest.fixture
def ping_env():
    return PingEnv()
