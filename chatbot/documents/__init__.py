"""Files people read or hand in: imports of organisations and members (CSV/XLSX), the official score
sheet and the results workbook (openpyxl), the county and city summaries (python-docx) and their charts
(matplotlib). Heavy libraries: imported only by the commands and downloads that need them, never by a
webhook worker."""
