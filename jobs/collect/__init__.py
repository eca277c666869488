"""The collection job: usage and cost from Vercel, Neon, Upstash and FOCUS files.

``sources/`` fetch and parse (one module per source, same interface), ``store`` writes
rows and watermarks, ``runner`` ties them together under an advisory lock, ``summary``
renders what happened.
"""
