"""Figures (matplotlib, headless) and self-contained HTML reports."""
