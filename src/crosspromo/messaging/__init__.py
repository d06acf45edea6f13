"""Contacts and consents, channels (e-mail, SMS, Telegram), broadcasts and frequency caps."""
