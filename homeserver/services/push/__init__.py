"""Push notifications: push rules (defaults, user rules, evaluation), the push actions
stored per event, notification counts, pushers and the sender to push gateways.
"""
