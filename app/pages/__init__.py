"""Public pages of the portal: landing, accessibility statement and feedback, privacy notice, language."""
