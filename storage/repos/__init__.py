"""Repositories by role. Each returns bot.domain types and owns its transactions."""
