"""Fixtures of the DAT's integration tests. A module with a `world` of its own (the accounts tests)
overrides this one."""

import pytest

from tests.dat_support import DatClient, World


@pytest.fixture
def world(app):
    """The DAT's world: a company in Moselle and Paris, an employer, CPAM agents, a stranger."""
    return World()


@pytest.fixture
def declarant(client, world):
    """``world.employer`` signed in, filling DAT drafts through the pages."""
    return DatClient(client, world.employer)
