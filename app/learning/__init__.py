"""Learning: enrollments, progress and completion, quiz attempts, discussions, reviews,
certificates."""
