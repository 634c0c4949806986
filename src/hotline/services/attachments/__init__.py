"""Attachments: files carried with a message, by SHA-256 in the signed envelope
(``service.py``: upload, send, serve, receive; ``pull.py``: fetching a peer's files in
chunks). See ``docs/attachments.md``."""
