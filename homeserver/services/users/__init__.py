"""A user as others and their own devices see them: profile, account data, room
tags, the user directory and mutual rooms.
"""
