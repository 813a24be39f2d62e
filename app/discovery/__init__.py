"""Finding courses: search, trending and "learners also took" scores, recommendations, and the
figures shown beside a creator's courses.

Discovery reads the catalog and learning's numbers (enrollments, ratings, `course_stats`), so it
sits above both in the import contract (pyproject.toml); the catalog itself (courses, their
structure, publishing) knows nothing of learners. Its tables (`course_search`, `search_term`,
`course_affinity`) stay mapped in app/catalog/models.py beside the course table."""
