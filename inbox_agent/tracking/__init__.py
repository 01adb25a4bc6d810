"""Tracking: one normalised TrackingStatus whatever the source (sample data or carrier adapters)."""
