"""Documents: .docx rendering (docxtpl-style templates, compiled once), files, PDF, e-mail."""
