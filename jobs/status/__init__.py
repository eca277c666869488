"""``python -m jobs status``: is the deployment healthy? ``read`` gathers the findings from
the database, ``checks`` judges them (pure) and renders the verdict as text or JSON."""
