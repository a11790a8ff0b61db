"""Attachments: the file store and the checks every upload passes (type by content, size)."""
