"""Period reports and exports: what a community recognised between two dates, by member,
indicator, category and orientation, and the records behind it, as JSON and CSV that are the
same bytes every time the same period is exported (figures.py, exports.py, render.py)."""
