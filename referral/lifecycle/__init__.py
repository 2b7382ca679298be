"""Data lifecycle: record data keys, retention and legal holds, backup and restore."""
