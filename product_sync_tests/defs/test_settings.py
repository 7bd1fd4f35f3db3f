"""The ownership setting as the launchpad shows it, and as the sync reads it."""

import pytest
from pydantic import ValidationError

from product_sync.core.ownership import CREATE_ONLY, FIELD_GROUPS, OwnershipPolicy
from product_sync.defs.catalog_sync.settings import FieldOwnership, SyncSettings


def test_every_field_group_is_a_setting_with_the_same_default_as_the_core():
    assert set(FieldOwnership.model_fields) == set(FIELD_GROUPS)
    assert FieldOwnership().policy() == OwnershipPolicy()
    assert SyncSettings().options(dry_run=False, max_archive_fraction=0.2).ownership.status == (
        CREATE_ONLY
    )
    described = FieldOwnership.model_fields["status"].description
    assert "create_only" in described and "drafted" in described


def test_settings_reach_the_sync_and_nonsense_is_refused_when_configured():
    settings = SyncSettings(ownership={"title": "create_only", "stock": "ignore"})
    policy = settings.options(dry_run=False, max_archive_fraction=0.2).ownership
    assert (policy.title, policy.stock, policy.price) == ("create_only", "ignore", "source")
    with pytest.raises(ValidationError, match="Medusa needs a title"):
        SyncSettings(ownership={"title": "ignore"})
    with pytest.raises(ValidationError, match=r"ownership\.price"):
        SyncSettings(ownership={"price": "sometimes"})
