"""Aggregate reports for program leads: unmet needs, outcomes, reasons, closing times, gaps."""
