"""Data files: gazetteer, topics."""
