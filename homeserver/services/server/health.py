"""Health of this process for load balancers: is the database answering?"""

from __future__ import annotations

import logging

from ... import db, errors

logger = logging.getLogger(__name__)


def check() -> None:
    """Raises DatabaseUnreachable unless a trivial query answers."""
    try:
        db.database.execute_sql("SELECT 1").fetchone()
    except Exception as exc:  # any failure to answer means "take this host out"
        logger.warning("health check: database unreachable: %s", exc)
        raise errors.DatabaseUnreachable() from None
