"""Plan limits as code: limits.yaml loaded into validated objects (``loader``, ``model``),
its rows in the database (``store``), and what applying it would change (``changes``,
``report``)."""
