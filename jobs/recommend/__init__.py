"""Upgrade recommendations: one home for the feature's pure rules and its IO.

Pure (no IO, dataclasses in and out): ``evaluation`` (where usage stands against a limit,
with ``for:``/hysteresis/NO_DATA), ``forecast`` (period-end forecasts and their backtests),
``advice`` (what an upgrade is worth: cost, overage, revenue at risk, ROI), ``lifecycle``
(the review states), ``explain`` (titles, reasoning and evidence) and ``cases`` (each
service's plans and limit terms, from limits.yaml).

IO: ``store`` (the SQL reads and writes), ``engine`` (one ``recommend`` run in one
transaction) and ``review`` (status changes made by people).
"""
