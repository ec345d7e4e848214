"""The ICP report: a one-page document with an evidence appendix, as one self-contained HTML file."""

from icpkit.report.build import STATUS_LABELS, exclusion_text, reasoning, render_report, report_context

__all__ = ["STATUS_LABELS", "exclusion_text", "reasoning", "render_report", "report_context"]
