"""End-to-end tests: the bot behind the Microsoft 365 Agents Playground, driven in headless Chromium (HIDEKI_E2E=1)."""
