"""``python -m jobs report``: usage against limits, forecasts and open recommendations as one
self-contained HTML file with charts, and the same summary as Markdown. ``data`` reads,
``summary``, ``charts`` and ``page`` are pure."""
