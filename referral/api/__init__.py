"""The versioned JSON API (``/api/v1``), its tokens and their management pages."""
