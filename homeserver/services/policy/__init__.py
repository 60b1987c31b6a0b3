"""What a request may do before a domain acts on it: a replayed transaction ID is answered
with its first result (``txn_ids``), then a suspended account is refused what it may not do
(``suspension``) and the request is counted against its rate limits (``ratelimit``). Sits
above the room graph (transaction IDs are stored beside the events) and below every domain
whose entry points apply it.
"""
