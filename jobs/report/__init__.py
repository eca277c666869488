"""``python -m jobs report``: usage against limits, forecasts and open recommendations as one
self-contained HTML file with charts, and the same summary as Markdown. ``data`` reads,
``projects`` (cost per project), ``summary``, ``charts`` and ``page`` are pure."""
