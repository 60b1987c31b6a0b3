"""The content repository: uploads, downloads, thumbnails, URL previews and their administration.

One concern per module: ``ids`` (mxc grammar), ``storage`` (files on disk), ``repository``
(media items and their lifetime), ``serving`` (safe response headers), ``thumbnails``,
``previews`` with ``fetch`` and ``opengraph``, ``admin`` (listing, purging, quarantine, usage).
"""
