"""API keys with a fake key store: only the hash is kept; a key authenticates as its role."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

import pytest

from api.services import keys
from mzekari.errors import InputError


class FakeKeys:
    def __init__(self) -> None:
        self.rows: dict[str, object] = {}

    def add(self, row) -> None:
        self.rows[row.key_id] = row

    def by_key_id(self, key_id: str):
        return self.rows.get(key_id)


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.keys = FakeKeys()
        self.audit = SimpleNamespace(last=lambda: None, add=lambda entry: None)
        self.committed = 0

    def lock(self, name: str) -> None:
        pass

    def commit(self) -> None:
        self.committed += 1


def test_only_the_hash_of_the_secret_is_stored_and_it_authenticates():
    uow = FakeUnitOfWork()
    issued = keys.create_key(uow, "producer", "Alpha")
    stored = uow.keys.rows[issued.key_id]
    secret = issued.secret_key.split("_", 2)[2]
    assert secret not in vars(stored).values()
    assert stored.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    actor = keys.authenticate(uow, issued.secret_key)
    assert (actor.role, actor.producer, uow.committed) == ("producer", "Alpha", 1)


@pytest.mark.parametrize("presented", ["", "Bearer x", "mzk_abc", "xyz_abc_def"])
def test_malformed_keys_are_refused(presented):
    with pytest.raises(keys.AuthenticationError):
        keys.authenticate(FakeUnitOfWork(), presented)


def test_a_wrong_secret_for_a_real_key_id_is_refused():
    uow = FakeUnitOfWork()
    issued = keys.create_key(uow, "admin")
    with pytest.raises(keys.AuthenticationError):
        keys.authenticate(uow, f"mzk_{issued.key_id}_not-the-secret")


@pytest.mark.parametrize(
    "role,producer", [("producer", None), ("producer", "  "), ("operator", "Alpha"), ("root", None)]
)
def test_role_and_producer_binding_are_checked(role, producer):
    with pytest.raises(InputError):
        keys.create_key(FakeUnitOfWork(), role, producer)


@pytest.mark.parametrize(
    ("producer", "name"),
    [("P/1", ""), ("p" * 33, ""), ("Alpha Beta", ""), ("Alpha", "n" * 201), ("Alpha", "k\x00")],
)
def test_producer_ids_and_key_names_are_bounded_on_every_path(producer, name):
    """The CLI reaches `create_key` without the HTTP schema: the service checks too."""
    with pytest.raises(InputError):
        keys.create_key(FakeUnitOfWork(), "producer", producer, name)
