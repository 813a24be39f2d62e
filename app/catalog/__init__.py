"""Catalog: courses, sections, lessons, quizzes (authoring), media, categories, review."""
