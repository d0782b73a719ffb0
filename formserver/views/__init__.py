"""One blueprint per flow; only the app factory imports these."""
