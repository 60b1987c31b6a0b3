"""What the server says about itself: versions and discovery, capabilities, support
contacts, third-party protocols, TURN credentials, health and metrics.
"""
