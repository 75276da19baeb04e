"""Loopback HTTP servers that speak the Telegram Bot API and the WeChat API, for tests and bench."""
