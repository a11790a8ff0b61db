"""Reports and statistics for staff (issue #7 §6), above the programmes: the Helsinki-lisä
applications handled in a date range as an Excel file (handled.py), and the statistics page's
counts and sums with small cells suppressed (statistics.py). Both only read; their audit rows
are written in the caller's transaction."""
