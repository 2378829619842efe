"""Fusion of ranked lists: convex combination with score normalization, and Reciprocal Rank Fusion.

Pure functions over (doc id, score) lists; the engine supplies the lists, tuning searches the settings.
"""
