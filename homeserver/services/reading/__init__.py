"""Reading rooms as a member sees them: history visibility, the client event format,
timeline paging and its tokens, the read snapshot, /messages and /context,
relations, threads, search, space hierarchy, room summaries and previews, filters.
Shared by /sync and every other endpoint that reads a room's events.
"""
