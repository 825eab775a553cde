"""Fixtures for the domain tests: the cast of personas and a client for each of them.

Load with `pytest_plugins = ["tests.fixtures_domain"]` at the top of a test module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.db import transaction
from django.test import Client

from tests.factories import Cast, Furniture, build_cast, client_for, furnish


@pytest.fixture
def cast(db) -> Cast:
    """A facilitator, a dilemma owner, two participants, an observer, and the neighbours."""
    return build_cast()


@pytest.fixture
def furniture(cast: Cast) -> Furniture:
    """A card, an action and a shared question on our worksheet, and a card next door."""
    return furnish(cast)


@pytest.fixture
def client_as(cast: Cast) -> Callable[..., Client]:
    """`client_as("owner")`: a test client signed in, or joined by link, as that persona."""

    def make(persona: str, **client_kwargs) -> Client:
        return client_for(cast, persona, **client_kwargs)

    return make


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker) -> Iterator[tuple[Cast, Furniture]]:
    """One furnished cast for a whole module, like Django's setUpTestData.

    Built once inside a transaction that is rolled back when the module ends; each test runs in
    a savepoint of its own (pytest-django's `db`), so a test's changes vanish after it. Use it
    for modules with many tests that only read the cast or change it over HTTP; model instances
    in it are not refreshed between tests, so re-read from the database what a test changed.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        cast = build_cast()
        furniture = furnish(cast)
        yield cast, furniture
        transaction.set_rollback(True)
