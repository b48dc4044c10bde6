"""Sources to canonical reports: readers, validation, privacy, batch loading."""
