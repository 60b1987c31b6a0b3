"""Stream positions (the one ordering every /sync stream shares), and waking the
long-polls that wait on them: the notifier and the SQLite doorbell between
processes.
"""
