"""Stages: thin loops over the store's queues, each named after what it consumes.

Each `run_once` claims work, does it, and commits its result and the next stage's input in one
transaction, returning how many items it handled (the app uses that to wake the next stage).
"""
