"""Pairwise user study: the HTML page (reference on top, two reconstructions below in seeded
random left/right order), the small local server that records choices, and the tally."""
