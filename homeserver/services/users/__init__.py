"""A user as others and their own devices see them: profile, account data as clients read
it (the store is ``userdata/``), the user directory and mutual rooms.
"""
