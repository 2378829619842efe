"""Fusion of ranked lists (convex combination with normalization, RRF): pure functions, no I/O.

Empty until the hybrid-engine issue lands; the engine refuses multi-retriever searches until then.
"""
