"""End-to-end encryption support: device and cross-signing keys, server-side key
backups, device-list changes and send-to-device messages.
"""
