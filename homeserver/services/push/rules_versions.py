"""Versions of users' push rules: how a process knows whose compiled rules went stale, and
the lock that serializes one user's rule changes.

A change (in its transaction) first calls ``lock_user`` and last ``note_change``: the
one-row ``PushRulesVersion.seq`` grows by one and the user's ``PushRulesUserVersion.seq``
takes its value. The row lock on ``PushRulesVersion`` is held until commit, so changes commit
in ``seq`` order and a reader that sees ``seq = n`` sees every change up to n: a process that
compiled rules at ``seq = m`` needs to drop only the users whose ``seq`` is above m.
"""

from __future__ import annotations

import secrets

from ...db import run_sql
from ...models.push import PushRulesUserVersion, PushRulesVersion


def lock_user(user_id: str) -> None:
    """Call first in a transaction that changes the user's rules: takes (creating it) the
    user's version row's lock, so two changes of one user's rules run one after the other and
    the second one reads what the first one wrote (PostgreSQL READ COMMITTED)."""
    (PushRulesUserVersion.insert(user_id=user_id, seq=0)
     .on_conflict(conflict_target=[PushRulesUserVersion.user_id],
                  update={PushRulesUserVersion.seq: PushRulesUserVersion.seq})
     .execute())


def note_change(user_id: str) -> None:
    """Call last in the transaction of any change to the user's rules (after ``lock_user``).
    A new row gets a random ``version``, so a database emptied or restored from a backup
    cannot come back to a state a process has cached."""
    (PushRulesVersion.insert(id=1, version=secrets.randbits(62), seq=1)
     .on_conflict(conflict_target=[PushRulesVersion.id],
                  update={PushRulesVersion.seq: PushRulesVersion.seq + 1})
     .execute())
    seq = PushRulesVersion.select(PushRulesVersion.seq).where(PushRulesVersion.id == 1).scalar()
    (PushRulesUserVersion.update(seq=seq)
     .where(PushRulesUserVersion.user_id == user_id).execute())


def current() -> tuple[int, int]:
    """(version, seq) now; (0, 0) before any change. Read for every event sent (a fixed
    statement, db.run_sql)."""
    row = run_sql(f"SELECT version, seq FROM {PushRulesVersion._meta.table_name} "
                  f"WHERE id = 1").fetchone()
    return (row[0], row[1]) if row is not None else (0, 0)


def changed_since(seq: int) -> set[str]:
    """The users whose rules changed after ``seq``."""
    return {u for (u,) in PushRulesUserVersion.select(PushRulesUserVersion.user_id)
            .where(PushRulesUserVersion.seq > seq).tuples()}


def customized_users() -> set[str]:
    """Every user who has rules of their own or changed a default rule."""
    return {u for (u,) in PushRulesUserVersion.select(PushRulesUserVersion.user_id).tuples()}
