"""Staff back office: queues, notes, decisions; calls the programmes' services, owns no business rules."""
