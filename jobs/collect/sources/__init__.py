"""One module per source, each with the same interface (``base.Source``)."""
