"""One notification service for every app: in-app centre, email, digests, unsubscribe."""
