"""In-app notifications and their e-mail copies (through the outbox)."""
