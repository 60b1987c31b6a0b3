"""What the server keeps for a user besides their account row and their rooms: account data
(global and per room, with the ignored-users list), room tags, and the contact addresses
(3PIDs) bound to the account (``threepids``; proving one is ``accounts/threepid_sessions``).
The store only: it sits below the room writers, push rules, pushers and receipts, which all
keep or check something in it; account data as clients read it (``m.push_rules`` computed)
is ``users/account_data_reads``.
"""
