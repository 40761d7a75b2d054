"""Merchants' and the platform's figures: counters the indexer keeps from its rows
(``counting``, ``counters``), read into series (``series``) for ``/v1/stats`` (``api``,
``queries``), the dashboard pages (``dashboard_api``, ``dashboard_page``, ``svg_charts``) and
their CSV and JSON, rendered once per change (``runtime``)."""
