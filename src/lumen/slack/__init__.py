"""The Slack surface: the Bolt app, thin listeners, and pure Block Kit builders."""
