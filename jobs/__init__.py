"""Infrastructure monitoring jobs: collect usage, evaluate limits, recommend upgrades.

Importable without pulumi; run as ``python -m jobs``.
"""
