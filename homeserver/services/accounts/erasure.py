"""Erasure of a deactivated account (POST /account/deactivate with ``erase: true``).

What the spec asks, and how far this server honours it:

- "any users which join the room after the erasure request are served redacted copies of the
  events sent by this account; users which had visibility on those events prior to the erasure
  are still able to see unredacted copies": ``erase`` records the erasure's stream position,
  from which ``services/reading/erased_senders.py`` serves the redacted copies.
- "erase any non-event data associated with the user, such as account data and contact
  3PIDs": ``erase`` deletes account data (room tags included), the ignored-users list,
  filters, push rules and the media the user uploaded (its mxc URIs answer 404 from the
  erasure's commit; the files go right after, services/accounts/deactivation.py); this server keeps
  no 3PIDs. Profile data, devices, keys, pushers and key backups go at every deactivation.

Not erased: the search index, which may still match words of erased events in POST /search
(the events it returns are served redacted as above).
"""

from __future__ import annotations

from ... import clock
from ...models.account_data import AccountData, IgnoredUser
from ...models.erasure import ErasedUser
from ...models.filters import Filter
from ...models.media import Media
from ...models.push import PushRule, PushRuleDefaultSetting
from ..push import rules_versions as push_rules_versions
from ..streams.positions import next_position


def erase(user_id: str) -> list[str]:
    """Record the erasure and delete the user's non-event data (call in a write transaction).
    Returns the SHA-256 of the content of the media items deleted (their files may now be
    unreferenced)."""
    position = next_position(users=[user_id])
    (ErasedUser.insert(user_id=user_id, stream_position=position, erased_ts=clock.now_ms())
     .on_conflict_ignore().execute())
    AccountData.delete().where(AccountData.user_id == user_id).execute()
    IgnoredUser.delete().where(IgnoredUser.user_id == user_id).execute()
    Filter.delete().where(Filter.user_id == user_id).execute()
    push_rules_versions.lock_user(user_id)
    PushRule.delete().where(PushRule.user_id == user_id).execute()
    PushRuleDefaultSetting.delete().where(PushRuleDefaultSetting.user_id == user_id).execute()
    push_rules_versions.note_change(user_id)  # no process keeps the erased rules compiled
    hashes = sorted({sha for (sha,) in Media.select(Media.sha256).where(
        (Media.user_id == user_id) & Media.sha256.is_null(False)).tuples()})
    Media.delete().where(Media.user_id == user_id).execute()
    return hashes
