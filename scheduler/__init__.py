"""APScheduler jobs (reminders, publication windows, re-review deadlines, outbox delivery).

Filled in by the reminders issue; depends on ``chatbot`` only.
"""
