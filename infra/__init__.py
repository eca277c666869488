"""Pulumi side of the project: resources and the dynamic provider. Needs the pulumi SDK."""
