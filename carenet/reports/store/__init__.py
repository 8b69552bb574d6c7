"""The storage side of the reports, behind ``carenet.reports.service``.

- ``models``: the report tables (``report_need``, ``report_referral``,
  ``report_refresh``), the zero-result search log (``search_gap``) and the
  ZIP → county reference table (``postcode_area``).
- ``indexes``: their covering indexes, one per grouping and measure (migration 0007).
- ``facts``: keeps the report tables up to date from needs and referrals; the one
  module that reads other domains' tables.
- ``grouping``: a ``ReportQuery``'s group key and filters as SQL over the report tables.
- ``measures``: the aggregate statements (need counts, status and reason counts,
  closed-loop counts and duration percentiles).
- ``percentiles``: exact percentiles read from the ordered indexes.
- ``gaps``: the zero-result search log: writing it, counting it.
- ``releases``: a month's counts per view; the stored releases and their window sums.
- ``durations``: time-to-close histograms stored with each release (0020) and the
  percentiles read off them.
- ``sql``: every difference between PostgreSQL and SQLite.
"""
