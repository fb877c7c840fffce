"""`behavior report`: one static, self-contained HTML file of the warehouse's marts.

Modules: queries (read the marts read-only), binning (the 10 equal-width probability bins),
charts (plotly figures), pages (sections: marts needed, chart, caption), html (the file),
build (write_report), command (the click command).
"""

from behavioral_analytics.report.build import ReportResult, write_report

__all__ = ["ReportResult", "write_report"]
