"""Expired txnId records are deleted by age (services/txn_ids.py: expire_due)."""


def up(db):
    db.execute_sql("CREATE INDEX IF NOT EXISTS event_transaction_created_ts "
                   "ON event_transaction (created_ts)")
