"""Closing the loop in Git: GitHub's REST API (``github``), one issue per recommendation
(``issues``, a notify receiver), and approval as a pull request that changes the plan in
limits.yaml (``planedit`` edits the text, pure; ``propose`` opens the pull request and
reads back its merge)."""
