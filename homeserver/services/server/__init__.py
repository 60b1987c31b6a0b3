"""What the server says about itself: versions and discovery, capabilities, support
contacts, TURN credentials, health and metrics.
"""
