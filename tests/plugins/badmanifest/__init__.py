"""Never imported: its manifest is invalid."""
