"""The partner-center web console: server-rendered pages over the gateway's public API (README, Console)."""
