"""Runnable examples: ``python -m ember.examples.digits`` is the main job."""
