"""The monitoring schema: its objects, their shapes in the catalog, and how to migrate them.

Shared by the Pulumi dynamic provider (``infra/provider.py``) and the local bootstrap
(``python -m jobs schema up``), so both run the same SQL files the same way.
"""
