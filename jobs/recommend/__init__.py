"""Upgrade recommendations: one home for the feature's pure rules and its IO.

Pure (no IO, dataclasses in and out): ``evaluation`` (where usage stands against a limit,
with ``for:``/hysteresis/NO_DATA), ``forecast`` (period-end forecasts and their backtests),
``cases`` (each account's services, plans and meter terms, from limits.yaml), ``assess``
(evaluate and forecast an account's metrics into outlooks), ``bill`` (the bill of a period
on one plan: base price, shared credit, on-demand per meter), ``advice`` (what an upgrade
is worth for a whole account: bills, overage, one pause, revenue at risk, ROI),
``records`` (the typed ``Recommendation``/``Evidence`` and their one JSON contract),
``lifecycle`` (the review states), ``explain`` (the text, table and Markdown people read),
``paid_plan`` (the plan the FOCUS purchase lines show) and ``budget`` (spend against a
USD budget, with its forecast).

IO: ``store`` (the SQL reads and writes), ``engine`` (one ``recommend`` run in one
transaction), ``money`` (plan mismatches and budget outlooks, read for recommend, status
and the report) and ``review`` (status changes made by people).
"""
