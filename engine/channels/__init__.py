"""Channels: how messages enter and leave flowbot (WhatsApp over Twilio, the console)."""
