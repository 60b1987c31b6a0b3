"""What is not room history: typing, presence, read receipts and fully read
markers, and the sweep that expires typing and presence.
"""
