"""Notifications with Alertmanager's discipline (``python -m jobs notify``).

``model`` holds the records (alerts, receivers, routes, silences, the settings);
``config`` reads ``notifications.yaml`` into them; ``alerts`` turns what the other jobs
stored (assessments, sources, recommendations, budgets) into alerts, and
``recommendations`` is the one adapter from a recommendation row to what is said about
it; ``plan`` routes, silences, inhibits and compares with what was last said (pure);
``render`` writes the Slack and webhook messages (pure); ``store`` is the notification
log (SQL); ``senders`` speak HTTP to the receivers; ``run`` ties them together.
"""
