"""The wake-up: context, prompts, decision schema."""
