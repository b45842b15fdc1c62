"""Notices over time: the reminders due at an instant, delivery of the outbox (template messages or
customer-service text within WeChat's window, retries, permanent failures), and the tick that runs
both once — by the scheduler's leader every minute, or `nianjian tick`."""
