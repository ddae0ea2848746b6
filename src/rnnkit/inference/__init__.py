"""Prediction at scale: reading input streams (:mod:`.stream`) and measuring a run directory's
speed and memory (:mod:`.bench`, ``rnnkit bench``)."""
