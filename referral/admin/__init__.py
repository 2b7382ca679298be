"""Administration of organisations and users."""
