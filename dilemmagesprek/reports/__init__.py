"""The report: a conversation as a document to keep (PDF, ODT, DOCX, Markdown) and as data
(JSON) that can be imported again. `report.build_report` reads; `exporters` render."""
